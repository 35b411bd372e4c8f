using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>The receiver fed by the OpenTelemetry .NET SDK's own OTLP exporter (protobuf over HTTP), as a product would feed it.</summary>
public sealed class ExporterTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GenAI_spans_exported_by_the_OpenTelemetry_SDK_are_stored_as_recal_ingest_stores_the_same_requests()
    {
        // Every acknowledged body as it arrived, to ingest the same bytes with recal ingest afterwards.
        var bodies = new ConcurrentQueue<byte[]>();
        await using var server = await Harness.StartAsync(middleware: app => app.Use(async (http, next) =>
        {
            if (!HttpMethods.IsPost(http.Request.Method))
            {
                await next(http);
                return;
            }

            http.Request.EnableBuffering();
            using var copy = new MemoryStream();
            await http.Request.Body.CopyToAsync(copy, http.RequestAborted);
            http.Request.Body.Position = 0;
            await next(http);
            if (http.Response.StatusCode == StatusCodes.Status200OK)
            {
                bodies.Enqueue(copy.ToArray());
            }
        }));

        using var source = new ActivitySource("SupportBot");
        var exported = 0;
        using (var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(source.Name)
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot"))
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri(server.Url, "/v1/traces");
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Headers = "Authorization=Bearer " + Harness.Token;

                // Each span is sent when it ends: a trace's model call and its root arrive in different requests.
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build())
        {
            for (var n = 0; n < 8; n++)
            {
                using var root = source.StartActivity("POST /chat", ActivityKind.Server)!;
                root.SetTag("plan", n % 2 == 0 ? "pro" : "free");
                using (var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client)!)
                {
                    chat.SetTag("gen_ai.operation.name", "chat");
                    chat.SetTag("gen_ai.provider.name", "openai");
                    chat.SetTag("gen_ai.request.model", "gpt-4o-mini");
                    chat.SetTag("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
                    chat.SetTag("gen_ai.usage.input_tokens", 12);
                    chat.SetTag("gen_ai.input.messages", Messages("user", Spans.Questions[n % Spans.Questions.Length]));
                    chat.SetTag("gen_ai.output.messages", Messages("assistant", $"Answer {n}"));
                }

                exported += 2;
            }

            tracing.ForceFlush().Should().BeTrue();
        }

        await server.StopAsync();
        var served = await Harness.StoredAsync(server.Store);

        // The same request bodies, length-prefixed in one file, through recal ingest.
        var folder = await Harness.NewProjectAsync("ingest");
        try
        {
            var file = Path.Combine(folder, "exported.otlp");
            await using (var output = File.Create(file))
            {
                foreach (var body in bodies)
                {
                    var prefix = new byte[4];
                    BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)body.Length);
                    output.Write(prefix);
                    output.Write(body);
                }
            }

            var ingest = await Harness.RunCliAsync("ingest", "-p", folder, "--format", "otlp-proto", file);
            ingest.Code.Should().Be(0, ingest.Error);
            var ingested = await Harness.StoredAsync(folder);

            bodies.Should().HaveCount(exported, "the simple processor sends each span in its own request, and each was acknowledged");
            served.Should().HaveCount(8);
            served.Should().Equal(ingested);
            var first = JsonDocument.Parse(served.Values.Single(v => v.Contains("\"Output\":\"Answer 0\"", StringComparison.Ordinal))).RootElement;
            first.GetProperty("Trace").GetProperty("Model").GetString().Should().Be("gpt-4o-mini-2024-07-18");
            first.GetProperty("Trace").GetProperty("Metadata").GetProperty("plan").GetString().Should().Be("pro");
            first.GetProperty("Trace").GetProperty("Input").GetProperty("Messages")[0].GetProperty("Content").GetString().Should().Be(Spans.Questions[0]);
        }
        finally
        {
            Harness.Delete(folder);
        }
    }

    private static string Messages(string role, string text) =>
        JsonSerializer.Serialize(new[] { new { role, parts = new[] { new { type = "text", content = text } } } });
}
