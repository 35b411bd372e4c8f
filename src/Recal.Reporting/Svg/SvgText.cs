using System.Globalization;
using System.Net;

namespace Recal.Reporting.Svg;

/// <summary>Number and text formatting shared by the SVG writers: invariant culture, escaped text.</summary>
internal static class SvgText
{
    public static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    public static string E(string text) => WebUtility.HtmlEncode(text);
}
