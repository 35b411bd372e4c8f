namespace Recal.Text;

/// <summary>The non-blank lines of a JSONL file with their 1-based line numbers, for located errors.</summary>
public static class JsonLines
{
    public static IEnumerable<(int Number, string Line)> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return (number, line);
            }
        }
    }
}
