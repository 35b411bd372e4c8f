namespace Recal.Samples;

/// <summary>Templated support-bot answers: a good one (high reference) and a vaguer one (borderline reference).</summary>
internal static class Answers
{
    public static string Topic(string intent) => intent.Replace('_', ' ');

    public static string Description(string intent, string domain) => domain switch
    {
        Scenario.OutOfScope => "Asks for something the assistant does not support.",
        "small_talk" => $"Small talk: {Topic(intent)}.",
        "meta" => $"About the conversation itself: {Topic(intent)}.",
        _ => $"Asks about {Topic(intent)} ({Topic(domain)}).",
    };

    public static string For(string intent, string domain, bool high) => (domain, high) switch
    {
        (Scenario.OutOfScope, true) => "Sorry, I can't help with that here. I can help with your accounts, cards, bills and trips; would you like to talk to a person instead?",
        (Scenario.OutOfScope, false) => "I'm not sure about that.",
        ("small_talk", true) => $"Happy to chat! ({Topic(intent)}) Is there anything about your account I can help with today?",
        ("small_talk", false) => "Okay.",
        ("meta", true) => $"Sure: {Topic(intent)}. Let me know how you'd like to continue.",
        ("meta", false) => "Noted.",
        (_, true) => $"Here is how {Topic(intent)} works: I've looked it up on your account and walked through the steps; tell me if you want me to go ahead.",
        _ => $"You can find {Topic(intent)} in the app.",
    };

    /// <summary>A word a good answer for the intent must contain, or null when none is natural.</summary>
    public static string? Keyword(string intent, string domain) =>
        domain is Scenario.OutOfScope or "small_talk" or "meta" ? null : intent.Split('_')[0];
}
