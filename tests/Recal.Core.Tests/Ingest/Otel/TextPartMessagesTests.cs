using FluentAssertions;
using Recal.Domain;
using Recal.Ingest.Otel;
using Xunit;

namespace Recal.Core.Tests.Ingest.Otel;

/// <summary>The one-pass reader of GenAI message lists gives what the general reader gives, or gives up.</summary>
public sealed class TextPartMessagesTests
{
    public static TheoryData<string> Texts() =>
    [
        """[{"role":"user","parts":[{"type":"text","content":"Where is my refund?"}]}]""",
        """[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"content":"two","type":"text"},{"type":"text","content":"parts"}]}]""",
        """[{"role":"assistant","parts":[{"type":"text","content":"Done."}],"finish_reason":"stop"}]""",
        """[{"parts":[{"type":"text","content":"no role"}]}]""",
        """[{"role":"user","parts":[]},{"role":"user"}]""",
        """[{"role":"user","parts":[{"type":"text","content":""}]}]""",
        """[{"role":"user","parts":[{"type":"text","content":"caf\u00e9 \"quoted\" \n line"}]}]""",
        """[{"role":"us\u0065r","parts":[{"type":"text","content":"escaped role"}]}]""",
        """[{"r\u006fle":"user","parts":[{"type":"text","content":"escaped name"}]}]""",
        """[{"role":"user","role":"assistant","parts":[{"type":"text","content":"repeated role"}]}]""",
        """[{"role":"user","parts":[{"type":"text","content":"a"}],"parts":[{"type":"text","content":"b"}]}]""",
        """[{"role":"user","parts":[{"type":"text","content":"a","content":"b"}]}]""",
        """[{"role":"user","parts":[{"type":"tool_call","name":"lookup","arguments":{"id":7}}]}]""",
        """[{"role":"tool","parts":[{"type":"tool_call_response","response":"42"}]}]""",
        """[{"role":"user","parts":[{"type":"reasoning","content":"hidden"},{"type":"text","content":"shown"}]}]""",
        """[{"role":"user","parts":[{"text":"text member"}]}]""",
        """[{"role":"user","content":"chat-completions style"}]""",
        """[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]""",
        """[{"role":5,"parts":[{"type":"text","content":"numeric role"}]}]""",
        """[{"role":"user","parts":[{"type":"text","content":7}]}]""",
        """[{"role":"user","parts":["bare string"]}]""",
        """[null,{"role":"user","parts":[{"type":"text","content":"after null"}]}]""",
        """[{"role":"user","name":"ann","parts":[{"type":"text","content":"named"}]}]""",
        """[{"role":"user","name":3,"parts":[{"type":"text","content":"numeric name"}]}]""",
        """[{"role":"user","parts":[{"type":"text","content":"trailing"}]}] x""",
        """[{"role":"user","parts":[{"type":"text","content":"truncated"}]""",
        """ [{"role":"user","parts":[{"type":"text","content":"leading space"}]}]""",
        """[]""",
        """[1, 2]""",
        """{"role":"user","parts":[{"type":"text","content":"an object, not a list"}]}""",
        """not json""",
        "",
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public void Gives_what_the_general_reader_gives(string text)
    {
        var general = GenAiContent.Messages(AttributeValues.Structure(text));

        GenAiContent.MessagesOf(text).Should().BeEquivalentTo(general, o => o.WithStrictOrdering());
        if (TextPartMessages.Read(text) is { } fast)
        {
            fast.Should().Equal(general!);
        }
    }

    [Fact]
    public void Reads_the_common_shape_itself()
    {
        TextPartMessages.Read("""[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]}]""")
            .Should().Equal(new ChatMessage("system", "Be brief."), new ChatMessage("user", "a\nb"));
        TextPartMessages.Read("""[{"role":"user","parts":[{"type":"tool_call","name":"lookup"}]}]""").Should().BeNull("a tool call is left to the general reader");
        TextPartMessages.Read("""[{"role":"user","parts":[{"type":"text","content":"a"}]}] x""").Should().BeNull();
    }
}
