using Recal.Domain;
using Recal.Running;

namespace Recal.Cli.Running;

/// <summary>
/// Whether this project can go on with a stored run (a resume, or a worker joining a distributed run): the same suite
/// version, and its target configured as it was when the run started.
/// </summary>
internal static class RunCompatibility
{
    /// <summary>Null and the run's target when compatible; else why not (one sentence, no trailing full stop).</summary>
    public static (TargetSettings? Target, string? Problem) Check(EvalProject project, RunInfo run, SecretRedactor redactor)
    {
        var suite = EvalRunner.SuiteVersion(project, run.Judges is not null ? project.Rubric : null);
        if (run.SuiteVersion != suite)
        {
            return (null, $"run {run.Id} scored suite {run.SuiteVersion}, but the project is now at {suite}: the cases, policy or rubric changed since");
        }

        var settings = project.Settings.Targets.FirstOrDefault(t => t.Name == run.Target);
        return settings is null || TargetFactory.Describe(settings, redactor) != run.TargetJson
            ? (null, $"the target '{run.Target}' is no longer configured as it was when run {run.Id} started")
            : (settings, null);
    }
}
