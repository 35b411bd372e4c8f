using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

/// <summary><c>targets:</c>, <c>judge:</c> and <c>run:</c> of recal.yaml, read through a whole project load.</summary>
public sealed class RunSettingsReaderTests : IDisposable
{
    private const string Rubric = """
        name: quality
        version: 2
        dimensions:
          - name: correctness
            scale: [1, 5]
            anchors:
              1: wrong
              5: right
        pass:
          all_at_least: 4
        """;

    private readonly TempFolder _folder = new();

    public RunSettingsReaderTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo").Should().BeEmpty();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Every_target_type_the_judge_and_the_run_defaults_parse()
    {
        // Given one target of every type, a judge ensemble and run defaults
        _folder.Write("prompts/support.md", "You are a support bot.");
        _folder.Write("rubrics/quality.yaml", Rubric);
        Append("""
            run:
              concurrency: 3
              max_error_share: 0.1
              cache_ttl: 7d
              retries: 2
              timeout: 45s
            targets:
              chat:
                type: openai
                base_url: http://127.0.0.1:8000/v1
                model: bot-v1
                api_key_env: BOT_KEY
                prompt: prompts/support.md
                parameters: {temperature: 0.2, top_p: 0.9, max_tokens: 64, seed: 7, stop: ["###"]}
                concurrency: 4
                rpm: 120
                timeout: 10s
                price: {input: 0.5, output: 1.5}
              web:
                type: http
                url: https://bot.example.test/ask
                request: '{"question": {{input}}}'
                response_path: $.answer
                headers:
                  X-Team: "${TEAM_TOKEN}"
              local:
                type: program
                command: python3 bot.py --fast
              production:
                type: replay
              results:
                type: replay
                source: file
                file: results/today.jsonl
            judge:
              rubric: rubrics/quality.yaml
              concurrency: 2
              rpm: 30
              judges:
                - {base_url: http://127.0.0.1:8001/v1, model: judge, seed: 1}
                - {base_url: http://127.0.0.1:8001/v1, model: judge, seed: 2, temperature: 0.5, name: second}
            """);

        // When the project loads
        var result = EvalProjectLoader.Load(_folder.Path);

        // Then there is no diagnostic, and every field is where it belongs
        result.Diagnostics.Should().BeEmpty(string.Join("\n", result.Diagnostics));
        var settings = result.Project!.Settings;
        settings.Run.Should().Be(new RunDefaults(3, 0.1, TimeSpan.FromDays(7), 2, TimeSpan.FromSeconds(45)));
        settings.Targets.Select(t => (t.Name, t.Kind)).Should().Equal(("chat", TargetKind.OpenAI), ("web", TargetKind.Http), ("local", TargetKind.Program), ("production", TargetKind.Replay), ("results", TargetKind.Replay));
        var chat = settings.Targets[0];
        chat.BaseUrl.Should().Be("http://127.0.0.1:8000/v1");
        chat.Model.Should().Be("bot-v1");
        chat.ApiKeyEnv.Should().Be("BOT_KEY");
        chat.Prompt.Should().Be("You are a support bot.");
        chat.Parameters.Keys.Should().BeEquivalentTo("temperature", "top_p", "max_tokens", "seed", "stop");
        chat.Parameters["max_tokens"].GetInt32().Should().Be(64);
        chat.Concurrency.Should().Be(4);
        chat.RequestsPerMinute.Should().Be(120);
        chat.Timeout.Should().Be(TimeSpan.FromSeconds(10));
        chat.Price.Should().Be(new TokenPrice(0.5, 1.5));
        var web = settings.Targets[1];
        web.Url.Should().Be("https://bot.example.test/ask");
        web.RequestTemplate.Should().Be("{\"question\": {{input}}}");
        web.ResponsePath.Should().Be("$.answer");
        web.Headers["x-team"].Should().Be("${TEAM_TOKEN}", "header values are expanded at call time only, so secrets never sit in the settings");
        settings.Targets[2].Command.Should().Equal("python3", "bot.py", "--fast");
        settings.Targets[3].ReplayFile.Should().BeNull();
        settings.Targets[4].ReplayFile.Should().Be(Path.Combine(_folder.Path, "results", "today.jsonl"));
        var judge = settings.Judge!;
        judge.RubricPath.Should().Be(Path.Combine(_folder.Path, "rubrics", "quality.yaml"));
        judge.ReviewQueuePath.Should().Be(Path.Combine(_folder.Path, ".recal", "review-queue.jsonl"));
        judge.Concurrency.Should().Be(2);
        judge.RequestsPerMinute.Should().Be(30);
        judge.Judges.Select(j => (j.Name, j.Seed, j.Temperature)).Should().Equal(("judge#seed1", 1, (double?)null), ("second", 2, 0.5));
        result.Project.Rubric!.Id.Should().Be("quality@v2");
    }

    [Fact]
    public void Run_defaults_apply_when_recal_yaml_has_no_run_block()
    {
        var defaults = EvalProjectLoader.Load(_folder.Path).Project!.Settings.Run;

        defaults.Should().Be(new RunDefaults());
        defaults.EffectiveTimeout.Should().Be(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Unknown_target_type_is_located_and_gets_the_nearest_spelling()
    {
        Append("""
            targets:
              bot:
                type: opneai
                base_url: http://127.0.0.1:8000/v1
            """);

        var error = Single("RC1007");

        error.Message.Should().Contain("'opneai'");
        error.Hint.Should().Contain("did you mean 'openai'");
        error.Location!.File.Should().Be("recal.yaml");
        error.Location.Line.Should().Be(LineOf("type: opneai"));
    }

    [Fact]
    public void Http_request_without_the_input_placeholder_is_rc1502()
    {
        Append("""
            targets:
              web:
                type: http
                url: http://127.0.0.1:8000/ask
                request: '{"question": "{{question}}"}'
                response_path: $.answer
            """);

        var error = Single("RC1502");

        error.Message.Should().Contain("{{input}}");
        error.Location!.Line.Should().Be(LineOf("request:"));
    }

    [Fact]
    public void Unset_environment_variable_in_base_url_without_a_default_is_rc1504_naming_it()
    {
        var variable = "RECAL_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Append($$"""
            targets:
              bot:
                type: openai
                base_url: ${{{variable}}}/v1
                model: m
            """);

        var error = Single("RC1504");

        error.Message.Should().Contain(variable).And.Contain("not set");
        error.Hint.Should().Contain($"${{{variable}:-");
        error.Location!.Line.Should().Be(LineOf("base_url:"));
    }

    [Fact]
    public void Environment_variables_expand_with_their_value_or_else_their_default()
    {
        // Given one base URL from a variable that is set, and one from an unset variable with a default
        var set = "RECAL_TEST_SET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var unset = "RECAL_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(set, "http://127.0.0.1:9100");
        try
        {
            Append($$"""
                targets:
                  a:
                    type: openai
                    base_url: ${{{set}}}/v1
                    model: m
                  b:
                    type: openai
                    base_url: ${{{unset}}:-http://127.0.0.1:8711/v1}
                    model: m
                """);

            // When the project loads
            var result = EvalProjectLoader.Load(_folder.Path);

            // Then the set variable's value and the unset one's default are used
            result.Diagnostics.Should().BeEmpty();
            result.Project!.Settings.Targets.Select(t => t.BaseUrl).Should().Equal("http://127.0.0.1:9100/v1", "http://127.0.0.1:8711/v1");
        }
        finally
        {
            Environment.SetEnvironmentVariable(set, null);
        }
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/v1")]
    [InlineData("127.0.0.1:8000/v1")]
    [InlineData("not a url")]
    public void Base_url_that_is_not_http_is_rc1504(string url)
    {
        Append($"""
            targets:
              bot:
                type: openai
                base_url: {url}
                model: m
            """);

        Single("RC1504").Message.Should().Contain("is not an http(s) URL");
    }

    [Fact]
    public void Replay_from_a_file_without_the_file_is_an_error_and_a_file_with_traces_is_too()
    {
        Append("""
            targets:
              results:
                type: replay
                source: file
              production:
                type: replay
                source: traces
                file: results.jsonl
            """);

        var result = EvalProjectLoader.Load(_folder.Path);

        result.Diagnostics.Should().ContainSingle(d => d.Code == "RC1004").Which.Message.Should().Contain("required when source is file");
        result.Diagnostics.Should().ContainSingle(d => d.Code == "RC1503").Which.Location!.Line.Should().Be(LineOf("file: results.jsonl"));
    }

    [Fact]
    public void Unknown_replay_source_gets_the_nearest_spelling()
    {
        Append("""
            targets:
              production:
                type: replay
                source: trace
            """);

        Single("RC1007").Hint.Should().Contain("did you mean 'traces'");
    }

    [Fact]
    public void Unknown_keys_in_a_target_and_its_parameters_are_located_with_the_nearest_spelling()
    {
        Append("""
            targets:
              bot:
                type: openai
                base_url: http://127.0.0.1:8000/v1
                model: m
                modle: m2
                parameters: {temprature: 0}
            """);

        var errors = EvalProjectLoader.Load(_folder.Path).Diagnostics.Where(d => d.Code == "RC1003").ToList();

        errors.Should().HaveCount(2);
        errors.Should().Contain(d => d.Message.Contains("modle") && d.Hint!.Contains("did you mean 'model'") && d.Location!.Line == LineOf("modle:"));
        errors.Should().Contain(d => d.Message.Contains("temprature") && d.Hint!.Contains("did you mean 'temperature'"));
    }

    [Fact]
    public void Unknown_key_under_run_is_rejected()
    {
        Append("""
            run:
              concurency: 4
            """);

        Single("RC1003").Hint.Should().Contain("did you mean 'concurrency'");
    }

    [Fact]
    public void Two_judges_with_the_same_name_are_rc1506()
    {
        _folder.Write("rubrics/quality.yaml", Rubric);
        Append("""
            judge:
              rubric: rubrics/quality.yaml
              judges:
                - {base_url: http://127.0.0.1:8001/v1, model: judge}
                - {base_url: http://127.0.0.1:8002/v1, model: judge}
            """);

        var error = Single("RC1506");

        error.Message.Should().Contain("'judge'");
        error.Hint.Should().Contain("seed");
    }

    [Fact]
    public void Judge_without_judges_is_an_error()
    {
        _folder.Write("rubrics/quality.yaml", Rubric);
        Append("""
            judge:
              rubric: rubrics/quality.yaml
              judges: []
            """);

        Single("RC1505").Message.Should().Contain("lists no judge");
    }

    [Fact]
    public void Rubric_errors_surface_through_the_project_load_located_in_the_rubric_file()
    {
        // Given a rubric whose scale is upside down and whose pass rule is empty
        _folder.Write("rubrics/quality.yaml", Rubric.Replace("scale: [1, 5]", "scale: [5, 1]", StringComparison.Ordinal).Replace("all_at_least: 4", "{}", StringComparison.Ordinal).Replace("pass:\n  {}", "pass: {}", StringComparison.Ordinal));
        Append("""
            judge:
              rubric: rubrics/quality.yaml
              judges:
                - {base_url: http://127.0.0.1:8001/v1, model: judge}
            """);

        // When the project loads
        var result = EvalProjectLoader.Load(_folder.Path);

        // Then both problems are reported against the rubric file
        var errors = result.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        errors.Select(d => d.Code).Should().Contain(["RC1303", "RC1307"], string.Join("\n", errors));
        errors.Where(d => d.Code.StartsWith("RC13", StringComparison.Ordinal)).Should().OnlyContain(d => d.Location!.File == Path.Combine("rubrics", "quality.yaml"));
    }

    [Fact]
    public void Target_with_a_missing_prompt_file_is_located()
    {
        Append("""
            targets:
              bot:
                type: openai
                base_url: http://127.0.0.1:8000/v1
                model: m
                prompt: prompts/missing.md
            """);

        var error = Single("RC1001");

        error.Message.Should().Contain("prompts/missing.md");
        error.Location!.Line.Should().Be(LineOf("prompt: prompts/missing.md"));
    }

    [Fact]
    public void Embeddings_default_to_the_builtin_embedder_and_an_openai_endpoint_parses_with_its_release_targets()
    {
        // Given no embeddings: section, the project uses the built-in embedder
        EvalProjectLoader.Load(_folder.Path).Project!.Settings.Embeddings.Should().Be(new EmbeddingSettings());

        // When recal.yaml names an OpenAI-compatible endpoint and a target says which release it is
        Append("""
            embeddings:
              type: openai
              base_url: ${RECAL_TEST_UNSET_EMBEDDINGS:-http://127.0.0.1:9000/v1}
              model: text-embedding-3-small
              api_key_env: EMBEDDINGS_KEY
              dimensions: 512
            targets:
              bot:
                type: replay
                release: support-bot-2026.07
            """);
        var result = EvalProjectLoader.Load(_folder.Path);

        // Then both are read, the URL expanded to its default
        result.Diagnostics.Where(d => d.Severity == Severity.Error).Should().BeEmpty();
        result.Project!.Settings.Embeddings.Should().Be(new EmbeddingSettings(EmbedderKind.OpenAI, "http://127.0.0.1:9000/v1", "text-embedding-3-small", "EMBEDDINGS_KEY", 512));
        result.Project.Settings.Targets.Single().Release.Should().Be("support-bot-2026.07");
    }

    [Fact]
    public void Embeddings_errors_are_located_an_unknown_type_a_missing_model_and_endpoint_keys_on_the_builtin_embedder()
    {
        Append("""
            embeddings:
              type: opneai
            """);
        Single("RC1007").Hint.Should().Contain("did you mean 'openai'");

        File.WriteAllText(Path.Combine(_folder.Path, "recal.yaml"), "version: 1\nembeddings:\n  type: openai\n  base_url: http://127.0.0.1:9000/v1\n");
        Single("RC1004").Message.Should().Contain("embeddings.model");

        File.WriteAllText(Path.Combine(_folder.Path, "recal.yaml"), "version: 1\nembeddings:\n  model: m\n");
        var error = Single("RC1503");
        error.Message.Should().Contain("embeddings.model").And.Contain("type: openai");
        error.Location!.Line.Should().Be(3);
    }

    private void Append(string yaml) => File.AppendAllText(Path.Combine(_folder.Path, "recal.yaml"), "\n" + yaml + "\n");

    private Diagnostic Single(string code)
    {
        var result = EvalProjectLoader.Load(_folder.Path);
        return result.Diagnostics.Should().ContainSingle(d => d.Code == code, because: string.Join("\n", result.Diagnostics)).Subject;
    }

    private int LineOf(string text) =>
        File.ReadAllLines(Path.Combine(_folder.Path, "recal.yaml")).Select((line, i) => (line, i)).First(x => x.line.Contains(text, StringComparison.Ordinal)).i + 1;
}
