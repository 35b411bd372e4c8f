namespace Recal.Classification;

/// <summary>An intent prediction: the intent and the classifier's confidence in it (a probability in [0, 1]).</summary>
/// <param name="IsUnknown">True when the confidence fell below the threshold; <paramref name="Intent"/> is then <c>unknown</c>.</param>
/// <param name="BestGuess">The most likely intent even when it was not confident enough.</param>
public readonly record struct IntentPrediction(string Intent, double Confidence, bool IsUnknown, string BestGuess);

/// <summary>Assigns an intent to a text. Implementations are thread-safe after construction.</summary>
public interface IIntentClassifier
{
    IntentPrediction Classify(string text);
}
