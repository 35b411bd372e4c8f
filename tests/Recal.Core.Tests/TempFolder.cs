using FluentAssertions;
using Recal.Diagnostics;
using Recal.Project;

namespace Recal.Core.Tests;

/// <summary>A temporary folder removed at dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "recal-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relative, string contents)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, contents);
        return full;
    }

    /// <summary>Replaces text in a file of the folder, which must hold it.</summary>
    public void Replace(string relative, string from, string to)
    {
        var full = System.IO.Path.Combine(Path, relative);
        var text = File.ReadAllText(full);
        text.Should().Contain(from);
        File.WriteAllText(full, text.Replace(from, to, StringComparison.Ordinal));
    }

    /// <summary>Loads the project in the folder and returns its one diagnostic with <paramref name="code"/>.</summary>
    public Diagnostic SingleDiagnostic(string code)
    {
        var result = EvalProjectLoader.Load(Path);
        return result.Diagnostics.Should().ContainSingle(d => d.Code == code, because: string.Join("\n", result.Diagnostics)).Subject;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file may still be open on some platforms.
        }
    }
}
