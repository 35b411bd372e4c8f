using System.Globalization;
using Recal.Classification;
using Recal.Domain;
using Recal.Text;

namespace Recal.Lifecycle;

/// <summary>Where an expression of <c>recal sample --where</c> is wrong (1-based column), and what would be right.</summary>
public sealed record TraceFilterError(int Column, string Message, string Hint)
{
    public override string ToString() => $"column {Column.ToString(CultureInfo.InvariantCulture)}: {Message} ({Hint})";
}

/// <summary>
/// A condition over a trace's feedback, intent, model, metadata and cohort, from the small language of
/// <c>recal sample --where</c> (docs/lifecycle.md#drawing-from-unhappy-traffic---where): comparisons such as
/// <c>thumbs = down</c>, <c>csat &lt;= 2</c>, <c>metadata.plan = free</c>, yes/no fields alone (<c>escalated</c>),
/// combined with <c>and</c>, <c>or</c>, <c>not</c> and parentheses.
/// </summary>
public sealed class TraceFilter
{
    private static readonly string[] FeedbackFlags = ["escalated", "continued", "completed", "follow_up"];
    private static readonly string[] Fixed = ["thumbs", "csat", .. FeedbackFlags, "intent", "model"];

    private readonly Func<ClassifiedTrace, bool> _predicate;

    private TraceFilter(string text, Func<ClassifiedTrace, bool> predicate)
    {
        Text = text;
        _predicate = predicate;
    }

    /// <summary>The expression as written.</summary>
    public string Text { get; }

    /// <summary>Parses an expression; <paramref name="taxonomy"/>, when given, checks intent names and cohort dimensions and values.</summary>
    public static (TraceFilter? Filter, TraceFilterError? Error) Parse(string text, Taxonomy? taxonomy = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            var parser = new Parser(Tokenise(text), taxonomy, text.Length + 1);
            return (new TraceFilter(text, parser.ParseAll()), null);
        }
        catch (FilterSyntaxException e)
        {
            return (null, e.Error);
        }
    }

    public bool Matches(ClassifiedTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return _predicate(trace);
    }

    private enum TokenKind
    {
        Word,
        Quoted,
        Operator,
        Open,
        Close,
        End,
    }

    private sealed record Token(TokenKind Kind, string Text, int Column)
    {
        public bool IsKeyword(string keyword) => Kind == TokenKind.Word && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);

        public string Shown => Kind == TokenKind.End ? "the end" : $"'{Text}'";
    }

    private sealed class FilterSyntaxException(TraceFilterError error) : Exception(error.Message)
    {
        public TraceFilterError Error { get; } = error;
    }

    private static FilterSyntaxException Fail(int column, string message, string hint) => new(new TraceFilterError(column, message, hint));

    private static List<Token> Tokenise(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')')
            {
                tokens.Add(new Token(c == '(' ? TokenKind.Open : TokenKind.Close, c.ToString(), i + 1));
                i++;
            }
            else if (c is '\'' or '"')
            {
                var end = text.IndexOf(c, i + 1);
                if (end < 0)
                {
                    throw Fail(i + 1, $"the string opened here with {c} is not closed", $"end it with {c}, e.g. metadata.plan = {c}free{c}");
                }

                tokens.Add(new Token(TokenKind.Quoted, text[(i + 1)..end], i + 1));
                i = end + 1;
            }
            else if (c is '=' or '!' or '<' or '>')
            {
                var two = i + 1 < text.Length && text[i + 1] == '=';
                var op = two ? text.Substring(i, 2) : c.ToString();
                if (op == "!")
                {
                    throw Fail(i + 1, "'!' alone is not an operator", "write != for 'is not', or not before a condition");
                }

                tokens.Add(new Token(TokenKind.Operator, op == "==" ? "=" : op, i + 1));
                i += op.Length;
            }
            else if (IsWordChar(c))
            {
                var start = i;
                while (i < text.Length && IsWordChar(text[i]))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, text[start..i], start + 1));
            }
            else
            {
                var hint = c is '&' or '|' ? "combine conditions with and, or, not" : "quote values with other characters, e.g. metadata.note = 'a, b'";
                throw Fail(i + 1, $"unexpected '{c}'", hint);
            }
        }

        tokens.Add(new Token(TokenKind.End, string.Empty, text.Length + 1));
        return tokens;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or '-' or '+' or ':' or '/' or '@';

    /// <summary>Recursive descent: or ← and ('or' and)*; and ← unary ('and' unary)*; unary ← 'not' unary | '(' or ')' | condition.</summary>
    private sealed class Parser(List<Token> tokens, Taxonomy? taxonomy, int endColumn)
    {
        private int _position;

        private Token Current => tokens[_position];

        public Func<ClassifiedTrace, bool> ParseAll()
        {
            if (Current.Kind == TokenKind.End)
            {
                throw Fail(1, "the expression is empty", "e.g. thumbs = down or escalated");
            }

            var result = Or();
            if (Current.Kind == TokenKind.Close)
            {
                throw Fail(Current.Column, "')' closes no '('", "remove it, or open the group with '(' before it");
            }

            if (Current.Kind != TokenKind.End)
            {
                throw Fail(Current.Column, $"expected and, or or the end after a condition, found {Current.Shown}", "join conditions with and / or, e.g. thumbs = down and csat <= 2");
            }

            return result;
        }

        private Func<ClassifiedTrace, bool> Or()
        {
            var left = And();
            while (Current.IsKeyword("or"))
            {
                _position++;
                var right = And();
                var l = left;
                left = t => l(t) || right(t);
            }

            return left;
        }

        private Func<ClassifiedTrace, bool> And()
        {
            var left = Unary();
            while (Current.IsKeyword("and"))
            {
                _position++;
                var right = Unary();
                var l = left;
                left = t => l(t) && right(t);
            }

            return left;
        }

        private Func<ClassifiedTrace, bool> Unary()
        {
            var token = Current;
            if (token.IsKeyword("not"))
            {
                _position++;
                var inner = Unary();
                return t => !inner(t);
            }

            if (token.Kind == TokenKind.Open)
            {
                _position++;
                var inner = Or();
                if (Current.Kind != TokenKind.Close)
                {
                    throw Fail(Current.Column, $"expected ')' to close the '(' at column {token.Column.ToString(CultureInfo.InvariantCulture)}, found {Current.Shown}", "add the ')'");
                }

                _position++;
                return inner;
            }

            if (token.Kind != TokenKind.Word || token.IsKeyword("and") || token.IsKeyword("or"))
            {
                var after = _position == 0 ? "at the start" : $"after '{tokens[_position - 1].Text}'";
                throw Fail(token.Kind == TokenKind.End ? endColumn : token.Column, $"expected a condition {after}, found {token.Shown}", "a condition is a field compared with a value (thumbs = down, csat <= 2, metadata.plan = free) or a yes/no field (escalated)");
            }

            _position++;
            return Condition(token);
        }

        private Func<ClassifiedTrace, bool> Condition(Token field)
        {
            var name = field.Text.StartsWith("feedback.", StringComparison.OrdinalIgnoreCase) ? field.Text["feedback.".Length..] : field.Text;
            var resolved = Resolve(name, field.Column);
            if (Current.Kind != TokenKind.Operator)
            {
                if (resolved.Flag is { } flag)
                {
                    return t => flag(t) == true;
                }

                var example = resolved.Kind == FieldKind.Number ? $"{field.Text} <= 2" : $"{field.Text} = {resolved.Example}";
                throw Fail(Current.Kind == TokenKind.End ? endColumn : Current.Column, $"expected an operator (=, !=, <, <=, >, >=) after '{field.Text}', found {Current.Shown}", $"'{field.Text}' is compared with a value, e.g. {example}");
            }

            var op = Current;
            _position++;
            var value = Current;
            if (value.Kind is not (TokenKind.Word or TokenKind.Quoted) || (value.Kind == TokenKind.Word && (value.IsKeyword("and") || value.IsKeyword("or") || value.IsKeyword("not"))))
            {
                throw Fail(value.Kind == TokenKind.End ? endColumn : value.Column, $"expected a value after '{op.Text}', found {value.Shown}", $"e.g. {field.Text} {op.Text} {resolved.Example}");
            }

            _position++;
            return resolved.Compare(op, value);
        }

        private enum FieldKind
        {
            Thumbs,
            Number,
            Flag,
            Text,
        }

        private sealed record Field(FieldKind Kind, string Name, string Example, Func<ClassifiedTrace, string?>? Text = null, Func<ClassifiedTrace, double?>? Number = null, Func<ClassifiedTrace, bool?>? Flag = null, IReadOnlyCollection<string>? Values = null)
        {
            public Func<ClassifiedTrace, bool> Compare(Token op, Token value)
            {
                var equality = op.Text is "=" or "!=";
                var negate = op.Text == "!=";
                var none = value.Kind == TokenKind.Word && value.IsKeyword("none");
                switch (Kind)
                {
                    case FieldKind.Thumbs:
                    {
                        RequireEquality(op, equality, "up, down or none");
                        int? wanted = none ? null : value.Text.ToLowerInvariant() switch
                        {
                            "up" or "1" or "+1" => 1,
                            "down" or "-1" => -1,
                            _ => throw Fail(value.Column, $"thumbs is up, down or none, not '{value.Text}'", $"e.g. thumbs = down"),
                        };
                        var thumbs = Number!;
                        return t => (thumbs(t) == wanted) != negate;
                    }

                    case FieldKind.Flag:
                    {
                        RequireEquality(op, equality, "true, false or none");
                        bool? wanted = none ? null : value.Text.ToLowerInvariant() switch
                        {
                            "true" or "yes" => true,
                            "false" or "no" => false,
                            _ => throw Fail(value.Column, $"{Name} is true, false or none, not '{value.Text}'", $"e.g. {Name} = true, or {Name} alone"),
                        };
                        var flag = Flag!;
                        return t => (flag(t) == wanted) != negate;
                    }

                    case FieldKind.Number:
                    {
                        var number = Number!;
                        if (none)
                        {
                            RequireEquality(op, equality, "a number, or none with = / !=");
                            return t => (number(t) is null) != negate;
                        }

                        if (!double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var wanted))
                        {
                            throw Fail(value.Column, $"{Name} compares with a number, not '{value.Text}'", $"e.g. {Name} {op.Text} 2");
                        }

                        return t => number(t) is { } v && Holds(op.Text, v.CompareTo(wanted));
                    }

                    default:
                    {
                        var text = Text!;
                        if (Values is { Count: > 0 } values && equality && !values.Contains(value.Text, StringComparer.Ordinal))
                        {
                            var near = Spelling.Nearest(value.Text, values);
                            throw Fail(value.Column, $"'{value.Text}' is not a known {Name} value", near is null ? $"the values are {string.Join(", ", values.Take(12))}{(values.Count > 12 ? ", …" : string.Empty)}" : $"did you mean '{near}'?");
                        }

                        if (equality)
                        {
                            var wanted = value.Text;
                            return t => string.Equals(text(t), wanted, StringComparison.Ordinal) != negate;
                        }

                        if (!double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bound))
                        {
                            throw Fail(op.Column, $"'{op.Text}' compares numbers, and '{value.Text}' is not one", $"use = or != for text, e.g. {Name} = {value.Text}");
                        }

                        return t => double.TryParse(text(t), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && Holds(op.Text, v.CompareTo(bound));
                    }
                }
            }

            private void RequireEquality(Token op, bool equality, string values)
            {
                if (!equality)
                {
                    throw Fail(op.Column, $"{Name} takes = or !=, not '{op.Text}'", $"{Name} is {values}");
                }
            }

            private static bool Holds(string op, int comparison) => op switch
            {
                "<" => comparison < 0,
                "<=" => comparison <= 0,
                ">" => comparison > 0,
                ">=" => comparison >= 0,
                "=" => comparison == 0,
                _ => comparison != 0,
            };
        }

        private Field Resolve(string name, int column)
        {
            var lower = name.ToLowerInvariant();
            switch (lower)
            {
                case "thumbs":
                    return new Field(FieldKind.Thumbs, "thumbs", "down", Number: t => t.Trace.Feedback.Thumbs);
                case "csat":
                    return new Field(FieldKind.Number, "csat", "2", Number: t => t.Trace.Feedback.Csat);
                case "escalated":
                    return new Field(FieldKind.Flag, lower, "true", Flag: t => t.Trace.Feedback.Escalated);
                case "continued":
                    return new Field(FieldKind.Flag, lower, "true", Flag: t => t.Trace.Feedback.Continued);
                case "completed":
                    return new Field(FieldKind.Flag, lower, "true", Flag: t => t.Trace.Feedback.Completed);
                case "follow_up":
                    return new Field(FieldKind.Flag, lower, "true", Flag: t => t.Trace.Feedback.FollowUp);
                case "intent":
                    return new Field(FieldKind.Text, "intent", taxonomy?.Intents.FirstOrDefault()?.Name ?? "card_declined", t => t.Intent, Values: taxonomy is null ? null : [.. taxonomy.Intents.Select(i => i.Name), Taxonomy.UnknownIntent]);
                case "model":
                    return new Field(FieldKind.Text, "model", "support-bot-2026.05", t => t.Trace.Model);
            }

            if (lower.StartsWith("metadata.", StringComparison.Ordinal) && name.Length > "metadata.".Length)
            {
                var key = name["metadata.".Length..];
                return new Field(FieldKind.Text, name, "free", t => t.Trace.Metadata.TryGetValue(key, out var v) ? v : null);
            }

            var dimensionName = lower.StartsWith("cohort.", StringComparison.Ordinal) ? name["cohort.".Length..] : taxonomy?.Cohorts.Any(c => c.Name == name) == true ? name : null;
            if (dimensionName is not null)
            {
                var dimension = taxonomy?.Cohorts.FirstOrDefault(c => c.Name == dimensionName);
                if (taxonomy is not null && dimension is null)
                {
                    var near = Spelling.Nearest(dimensionName, taxonomy.Cohorts.Select(c => c.Name));
                    throw Fail(column, $"'{dimensionName}' is not a cohort dimension of the taxonomy", near is null ? $"the dimensions are {string.Join(", ", taxonomy.Cohorts.Select(c => c.Name))}" : $"did you mean 'cohort.{near}'?");
                }

                return new Field(FieldKind.Text, dimensionName, dimension?.Values.FirstOrDefault() ?? "free", t => CohortResolver.ParseKey(t.CohortKey).FirstOrDefault(p => p.Key == dimensionName).Value, Values: dimension is null ? null : [.. dimension.Values, dimension.Missing]);
            }

            var candidates = Fixed.Concat(taxonomy?.Cohorts.Select(c => c.Name) ?? []).ToList();
            var nearest = Spelling.Nearest(name, candidates);
            var fields = $"fields are {string.Join(", ", Fixed)}, metadata.KEY and cohort.DIMENSION";
            throw Fail(column, $"unknown field '{name}'", nearest is null ? fields : $"did you mean '{nearest}'? {fields}");
        }
    }
}
