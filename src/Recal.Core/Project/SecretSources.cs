using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>
/// Finds where recal.yaml puts credentials: <c>api_key_env</c> names, <c>${VAR}</c> expanded into a URL's user info or
/// query or into a header value, and credentials written literally there. Read from the YAML as written, before
/// expansion, since only the text tells which part of a URL came from a variable.
/// </summary>
internal static partial class SecretSources
{
    public static (IReadOnlyList<string> Variables, IReadOnlyList<string> Literals) Read(YamlMappingNode root)
    {
        var variables = new SortedSet<string>(StringComparer.Ordinal);
        var literals = new List<string>();
        void Endpoint(YamlMappingNode endpoint)
        {
            foreach (var (key, value) in endpoint.Children)
            {
                switch ((key as YamlScalarNode)?.Value, value)
                {
                    case ("api_key_env", YamlScalarNode { Value: { Length: > 0 } name }):
                        variables.Add(name);
                        break;
                    case ("base_url" or "url", YamlScalarNode { Value: { } url }):
                        Url(url, variables, literals);
                        break;
                    case ("headers", YamlMappingNode headers):
                        foreach (var (header, text) in headers.Children)
                        {
                            if (text is YamlScalarNode { Value: { } written })
                            {
                                Header((header as YamlScalarNode)?.Value ?? string.Empty, written, variables, literals);
                            }
                        }

                        break;
                }
            }
        }

        if (Child(root, "store") is YamlScalarNode { Value: { } store })
        {
            Url(store, variables, literals);
        }

        if (Child(root, "targets") is YamlMappingNode targets)
        {
            foreach (var target in targets.Children.Values.OfType<YamlMappingNode>())
            {
                Endpoint(target);
            }
        }

        if (Child(root, "judge") is YamlMappingNode judge && Child(judge, "judges") is YamlSequenceNode judges)
        {
            foreach (var model in judges.Children.OfType<YamlMappingNode>())
            {
                Endpoint(model);
            }
        }

        if (Child(root, "embeddings") is YamlMappingNode embeddings)
        {
            Endpoint(embeddings);
        }

        return ([.. variables], literals);
    }

    /// <summary>Whether a header carries a credential by its name (Authorization, X-Api-Key, a token or secret).</summary>
    public static bool IsCredentialHeader(string name) => CredentialName().IsMatch(name);

    private static void Url(string url, SortedSet<string> variables, List<string> literals)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var authorityEnd = url.IndexOfAny(['/', '?', '#'], scheme + 3);
            var authority = authorityEnd < 0 ? url[(scheme + 3)..] : url[(scheme + 3)..authorityEnd];
            var at = authority.LastIndexOf('@');
            if (at > 0)
            {
                Part(authority[..at], variables, literals);
            }
        }

        var query = url.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return;
        }

        foreach (var pair in url[(query + 1)..].Split('#')[0].Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                continue;
            }

            var value = pair[(equals + 1)..];
            if (Variables(value).Any())
            {
                variables.UnionWith(Variables(value));
            }
            else if (CredentialName().IsMatch(pair[..equals]) && value.Length > 0)
            {
                literals.Add(value);
            }
        }
    }

    private static void Header(string name, string value, SortedSet<string> variables, List<string> literals)
    {
        var referenced = Variables(value).ToList();
        if (referenced.Count > 0)
        {
            variables.UnionWith(referenced);
        }
        else if (IsCredentialHeader(name))
        {
            literals.Add(value);
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0)
            {
                literals.Add(value[(space + 1)..]);
            }
        }
    }

    /// <summary>User info: the variables in it, or the literal user info and its password.</summary>
    private static void Part(string userInfo, SortedSet<string> variables, List<string> literals)
    {
        var referenced = Variables(userInfo).ToList();
        if (referenced.Count > 0)
        {
            variables.UnionWith(referenced);
            return;
        }

        literals.Add(userInfo);
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && colon < userInfo.Length - 1)
        {
            literals.Add(userInfo[(colon + 1)..]);
        }
    }

    private static IEnumerable<string> Variables(string text) => VariableName().Matches(text).Select(m => m.Groups[1].Value);

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: var k } && k == key).Value;

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex VariableName();

    [GeneratedRegex(@"(?i)(authorization|api[_-]?key|token|secret|password|passwd|credential|cookie|^key$|^auth$|^sig(nature)?$)")]
    private static partial Regex CredentialName();
}
