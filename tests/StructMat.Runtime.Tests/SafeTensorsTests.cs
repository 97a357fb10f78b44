using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using StructMat.Runtime.IO;
using Xunit;

namespace StructMat.Runtime.Tests;

/// <summary>
/// The safetensors writer byte for byte against files built by hand (the reference writer's own examples among
/// them), Save → Read → Load bit-exact, every malformed-file case the reader must reject, dtype conversion and the
/// strict / non-strict Load rules.
/// </summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "structmat-st-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string TempFile(string name) => Path.Combine(_directory, name);

    private static Parameter Make(string name, int[] shape, params float[] values)
    {
        var parameter = new Parameter(name, shape, trainable: true);
        values.CopyTo(parameter.Data, 0);
        return parameter;
    }

    private static Parameter Random(string name, int[] shape, int seed)
    {
        var parameter = new Parameter(name, shape, trainable: false);
        TestData.Uniform(parameter.Length, seed).CopyTo(parameter.Data, 0);
        return parameter;
    }

    /// <summary>u64 length, the header text, then the data: a file assembled by hand.</summary>
    private static byte[] Assemble(ulong declaredLength, string header, byte[] data)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength);
        headerBytes.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + headerBytes.Length);
        return bytes;
    }

    private static byte[] Assemble(string header, byte[] data) => Assemble((ulong)Encoding.UTF8.GetByteCount(header), header, data);

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int k = 0; k < values.Length; k++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * k), values[k]);
        return bytes;
    }

    private static string Spaces(int count) => new(' ', count);

    // ------------------------------------------------------------------ bytes

    [Fact]
    public void Serialize_OneTensor_MatchesTheReferenceWritersExample()
    {
        // huggingface/safetensors' own test: "attn.0" F32 [1,2,3] = 0..5 gives a 64-byte header, no padding.
        var bytes = SafeTensors.Serialize(new[] { Make("attn.0", new[] { 1, 2, 3 }, 0, 1, 2, 3, 4, 5) });
        var expected = Assemble(64, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", Floats(0, 1, 2, 3, 4, 5));
        Assert.Equal(expected, bytes);
        Assert.Equal(new byte[] { 64, 0, 0, 0, 0, 0, 0, 0, (byte)'{' }, bytes[..9]);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0x80, 0x3F }, bytes[72..80]); // 0f and 1f little-endian
    }

    [Fact]
    public void Serialize_PadsTheHeaderWithSpacesToAMultipleOf8()
    {
        // The reference's forced-alignment example: a 65-byte JSON header becomes 72 bytes with 7 spaces.
        var bytes = SafeTensors.Serialize(new[] { Make("attn0", new[] { 1, 1, 2, 3 }, 0, 1, 2, 3, 4, 5) });
        var expected = Assemble(72, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}" + Spaces(7), Floats(0, 1, 2, 3, 4, 5));
        Assert.Equal(expected, bytes);
        Assert.Equal(8 + 72 + 24, bytes.Length);
    }

    [Fact]
    public void Serialize_EmptyWithAndWithoutMetadata_MatchesTheReferenceWritersExamples()
    {
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }, SafeTensors.Serialize(Array.Empty<Parameter>()));
        var withMetadata = SafeTensors.Serialize(Array.Empty<Parameter>(), new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal(Assemble(40, "{\"__metadata__\":{\"framework\":\"pt\"}}" + Spaces(5), Array.Empty<byte>()), withMetadata);
    }

    [Fact]
    public void Serialize_SortsNamesAndMetadataKeys_PutsMetadataFirst_EscapesStrings()
    {
        var metadata = new Dictionary<string, string> { ["b"] = "x\"y\n", ["a"] = "1" };
        var bytes = SafeTensors.Serialize(new[] { Make("b", new[] { 2 }, 2, 3), Make("a", new[] { 1 }, 1) }, metadata);
        // 146 bytes of JSON, 6 spaces of padding: 152.
        string header = "{\"__metadata__\":{\"a\":\"1\",\"b\":\"x\\\"y\\n\"},"
                      + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}" + Spaces(6);
        Assert.Equal(Assemble(152, header, Floats(1, 2, 3)), bytes);

        var content = SafeTensors.ReadContent(new MemoryStream(bytes));
        Assert.Equal("x\"y\n", content.Metadata["b"]);
        Assert.Equal("1", content.Metadata["a"]);
    }

    [Fact]
    public void Serialize_IsIndependentOfTheParameterOrder()
    {
        var p = new[] { Random("terms.1.lora_B", new[] { 5, 2 }, 1), Random("terms.1.lora_A", new[] { 2, 7 }, 2), Random("bias", new[] { 5 }, 3) };
        var forward = SafeTensors.Serialize(p);
        var backward = SafeTensors.Serialize(p.Reverse());
        Assert.Equal(forward, backward);
        var names = SafeTensors.Read(new MemoryStream(forward)).Keys.ToArray();
        Assert.Equal(new[] { "bias", "terms.1.lora_A", "terms.1.lora_B" }, names); // file (= offset) order
    }

    // ------------------------------------------------------------------ round trip

    [Fact]
    public void SaveReadLoad_RoundTripsBitExact_IncludingSpecialValues()
    {
        var special = Make("special", new[] { 2, 4 },
            float.NaN, BitConverter.Int32BitsToSingle(0x7FC12345), -0f, float.Epsilon, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -1e-40f);
        var parameters = new[] { Random("blkdiag1", new[] { 4, 3, 3 }, 10), Random("blkdiag2", new[] { 4, 5, 3 }, 11), Random("bias", new[] { 20 }, 12), special };
        var metadata = new Dictionary<string, string> { ["format"] = "structmat", ["é"] = "ü ✓" };
        string path = TempFile("round.safetensors");
        SafeTensors.Save(path, parameters, metadata);

        var content = SafeTensors.ReadContent(path);
        Assert.Equal(4, content.Tensors.Count);
        Assert.Equal("ü ✓", content.Metadata["é"]);
        foreach (var parameter in parameters)
        {
            var tensor = content.Tensors[parameter.Name];
            Assert.Equal("F32", tensor.DType);
            Assert.Equal(parameter.Shape, tensor.Shape);
            Assert.Equal(parameter.Data.Select(BitConverter.SingleToInt32Bits), tensor.Data.Select(BitConverter.SingleToInt32Bits));
        }

        var fresh = parameters.Select(p => new Parameter(p.Name, p.Shape, trainable: true)).ToArray();
        SafeTensors.Load(path, fresh);
        for (int k = 0; k < parameters.Length; k++)
            Assert.Equal(parameters[k].Data.Select(BitConverter.SingleToInt32Bits), fresh[k].Data.Select(BitConverter.SingleToInt32Bits));

        // Saving what was loaded gives the same bytes.
        string again = TempFile("again.safetensors");
        SafeTensors.Save(again, fresh, metadata);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void SaveToStream_AndReadFromANonSeekableStream()
    {
        var parameters = new[] { Random("weight", new[] { 3, 4 }, 20) };
        var buffer = new MemoryStream();
        buffer.WriteByte(0xEE); // Save writes at the current position
        SafeTensors.Save(buffer, parameters);
        Assert.Equal(SafeTensors.Serialize(parameters), buffer.ToArray()[1..]);

        var tensors = SafeTensors.Read(new ForwardOnlyStream(buffer.ToArray()[1..]));
        Assert.Equal(parameters[0].Data, tensors["weight"].Data);
    }

    [Fact]
    public void Save_ReplacesAnExistingFile_AndLeavesNoTemporaryFile()
    {
        string path = TempFile("replace.safetensors");
        File.WriteAllBytes(path, new byte[5000]);
        SafeTensors.Save(path, new[] { Make("w", new[] { 1 }, 7) });
        Assert.Equal(7f, SafeTensors.Read(path)["w"].Data[0]);
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Save_RejectsDuplicateAndReservedNames()
    {
        var duplicate = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new[] { Make("w", new[] { 1 }, 1), Make("w", new[] { 1 }, 2) }));
        Assert.Contains("'w'", duplicate.Message);
        var reserved = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new[] { Make("__metadata__", new[] { 1 }, 1) }));
        Assert.Contains("__metadata__", reserved.Message);
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new[] { Make("bad\ud800", new[] { 1 }, 1) }));
    }

    // ------------------------------------------------------------------ other dtypes

    [Fact]
    public void Read_ConvertsF16Bf16AndF64ToFloat()
    {
        // F16 1.0 = 0x3C00, -2.5 = 0xC100; BF16 1.0 = 0x3F80, 3.140625 = 0x4049; F64 0.1.
        var data = new byte[16];
        new byte[] { 0x00, 0x3C, 0x00, 0xC1, 0x80, 0x3F, 0x49, 0x40 }.CopyTo(data, 0);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), 0.1);
        string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                      + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                      + "\"d\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[8,16]}}";
        var tensors = SafeTensors.Read(new MemoryStream(Assemble(header, data)));
        Assert.Equal("F16", tensors["h"].DType);
        Assert.Equal(new[] { 1f, -2.5f }, tensors["h"].Data);
        Assert.Equal("BF16", tensors["b"].DType);
        Assert.Equal(new[] { 1f, 3.140625f }, tensors["b"].Data);
        Assert.Equal(new[] { 1, 1 }, tensors["d"].Shape);
        Assert.Equal(new[] { 0.1f }, tensors["d"].Data);
    }

    [Fact]
    public void Read_IntegerDtype_IsNotSupported_NamingTheDtype()
    {
        var bytes = Assemble("{\"steps\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", new byte[8]);
        var e = Assert.Throws<NotSupportedException>(() => SafeTensors.Read(new MemoryStream(bytes)));
        Assert.Contains("I64", e.Message);
        Assert.Contains("'steps'", e.Message);
    }

    [Fact]
    public void Read_ScalarAndEmptyTensors()
    {
        string header = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]}}";
        var tensors = SafeTensors.Read(new MemoryStream(Assemble(header, Floats(42))));
        Assert.Equal(new[] { 42f }, tensors["s"].Data);
        Assert.Empty(tensors["s"].Shape);
        Assert.Empty(tensors["e"].Data);
        Assert.Equal(new[] { 0, 3 }, tensors["e"].Shape);
    }

    // ------------------------------------------------------------------ hostile files

    private static InvalidDataException Rejects(byte[] bytes, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(bytes)));
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message);
        return e;
    }

    private const string Good = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    [Fact]
    public void Hostile_TheUntouchedBaseFileIsValid()
    {
        // Every hostile case below is one change away from this file.
        Assert.Equal(new[] { 1f, 2f }, SafeTensors.Read(new MemoryStream(Assemble(Good, Floats(1, 2))))["w"].Data);
    }

    [Fact]
    public void Hostile_ShorterThanTheLengthPrefix() => Rejects(new byte[] { 1, 0, 0 }, "3 bytes", "8-byte");

    [Fact]
    public void Hostile_HeaderLengthBeyondTheFile()
        => Rejects(Assemble(1000, Good, Floats(1, 2)), "1000", "only");

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(100_000_001UL)]
    public void Hostile_HugeDeclaredHeaderLength_IsRejectedWithoutAllocating(ulong declared)
        => Rejects(Assemble(declared, Good, Floats(1, 2)), declared.ToString(System.Globalization.CultureInfo.InvariantCulture), "limit");

    [Fact]
    public void Hostile_LargeButAllowedHeaderLength_IsCheckedAgainstTheFileBeforeReading()
        => Rejects(Assemble(99_999_999, Good, Floats(1, 2)), "99999999", "only");

    [Fact]
    public void Hostile_HeaderNotUtf8()
    {
        var bytes = Assemble(Good, Floats(1, 2));
        bytes[10] = 0xFF;
        Rejects(bytes, "UTF-8");
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}")]
    [InlineData("not json at all, but long enough.....................")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}")]
    public void Hostile_HeaderNotJson(string header) => Rejects(Assemble(header, Floats(1, 2)), "not valid JSON");

    [Fact]
    public void Hostile_HeaderRootNotAnObject() => Rejects(Assemble("[1,2]", Floats(1, 2)), "not an object");

    [Theory]
    [InlineData("{\"w\":[0,8]}", "'w'", "not an object")]
    [InlineData("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "'w'", "dtype")]
    [InlineData("{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", "'w'", "unknown dtype 'F33'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "'w'", "shape")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "'w'", "-2")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "'w'", "2.5")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3000000000],\"data_offsets\":[0,8]}}", "'w'", "3000000000")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", "'w'", "data_offsets")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", "'w'", "data_offsets")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-1,8]}}", "'w'", "data_offsets")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "'w'", "[8, 0]")]
    public void Hostile_MalformedTensorEntry(string header, string name, string problem)
        => Rejects(Assemble(header, Floats(1, 2)), name, problem);

    [Fact]
    public void Hostile_OffsetsOutOfRange()
        => Rejects(Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", Floats(1, 2)), "'w'", "[0, 16]", "8-byte");

    [Fact]
    public void Hostile_HugeOffsets_DoNotAllocate()
        => Rejects(Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[1000000000,4],\"data_offsets\":[0,16000000000]}}", Floats(1, 2)), "'w'", "16000000000");

    [Fact]
    public void Hostile_OverlappingOffsets()
    {
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        Rejects(Assemble(header, Floats(1, 2, 3)), "'b'", "overlaps", "'a'");
    }

    [Fact]
    public void Hostile_SameOffsetsTwice()
    {
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Rejects(Assemble(header, Floats(1, 2)), "overlaps");
    }

    [Fact]
    public void Hostile_GapBetweenTensors()
    {
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        Rejects(Assemble(header, Floats(1, 2, 3)), "'b'", "belong to no tensor");
    }

    [Fact]
    public void Hostile_TrailingBytesCoveredByNoTensor()
        => Rejects(Assemble(Good, Floats(1, 2, 3)), "12-byte", "cover only 8");

    [Fact]
    public void Hostile_ShapeDoesNotMatchByteSize()
        => Rejects(Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", Floats(1, 2)), "'w'", "[3]", "12 bytes", "hold 8 bytes");

    [Fact]
    public void Hostile_ShapeProductOverflows()
        => Rejects(Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", Floats(1, 2)), "'w'", "overflows");

    [Fact]
    public void Hostile_DuplicateNames()
    {
        string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        Rejects(Assemble(header, Floats(1, 2)), "'w'", "twice");
    }

    [Theory]
    [InlineData("{\"__metadata__\":{\"k\":1},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "'k'")]
    [InlineData("{\"__metadata__\":[\"k\"],\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "__metadata__")]
    public void Hostile_MetadataNotStrings(string header, string problem) => Rejects(Assemble(header, Floats(1, 2)), problem);

    [Fact]
    public void Hostile_ErrorFromAFileNamesThePath()
    {
        string path = TempFile("bad.safetensors");
        File.WriteAllBytes(path, Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", Floats(1, 2)));
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
    }

    // ------------------------------------------------------------------ Load

    private string SaveAB()
    {
        string path = TempFile("ab.safetensors");
        SafeTensors.Save(path, new[] { Make("a", new[] { 2 }, 1, 2), Make("b", new[] { 1, 3 }, 3, 4, 5) });
        return path;
    }

    [Fact]
    public void Load_Strict_ListsMissingAndUnexpectedTensors()
    {
        string path = SaveAB();
        var target = new[] { new Parameter("a", new[] { 2 }, true), new Parameter("c", new[] { 1 }, true), new Parameter("d", new[] { 1 }, true) };
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, target));
        Assert.Contains("missing tensors: c, d", e.Message);
        Assert.Contains("unexpected tensors: b", e.Message);
        Assert.All(target, p => Assert.All(p.Data, v => Assert.Equal(0f, v))); // nothing written

        var extra = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, new[] { new Parameter("a", new[] { 2 }, true) }));
        Assert.Contains("unexpected tensors: b", extra.Message);
        Assert.DoesNotContain("missing", extra.Message);
    }

    [Fact]
    public void Load_NonStrict_IgnoresExtrasButRequiresEveryParameter()
    {
        string path = SaveAB();
        var a = new Parameter("a", new[] { 2 }, true);
        SafeTensors.Load(path, new[] { a }, strict: false);
        Assert.Equal(new[] { 1f, 2f }, a.Data);

        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, new[] { a, new Parameter("z", new[] { 2 }, true) }, strict: false));
        Assert.Contains("missing tensors: z", e.Message);
        Assert.DoesNotContain("unexpected", e.Message);
    }

    [Fact]
    public void Load_ShapeMismatch_NamesTensorExpectedAndActual_EvenWithTheSameElementCount()
    {
        string path = SaveAB();
        var a = new Parameter("a", new[] { 2 }, true);
        var b = new Parameter("b", new[] { 3, 1 }, true);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, new[] { a, b }));
        Assert.Contains("'b'", e.Message);
        Assert.Contains("expected shape [3, 1]", e.Message);
        Assert.Contains("file has [1, 3]", e.Message);
        Assert.DoesNotContain("'a'", e.Message);
        Assert.All(a.Data, v => Assert.Equal(0f, v)); // a matched, but a failed load writes nothing
    }

    [Fact]
    public void Load_WithNames_TakesATensorThatDiffersOnlyByUnitDimensions()
    {
        // PEFT stores BOFT's output scale as boft_s [out, 1]; StructMat's diagonal is [out]. And the other way round.
        string path = TempFile("peft.safetensors");
        SafeTensors.Save(path, new[] { Make("boft_s", new[] { 3, 1 }, 3, 4, 5), Make("v", new[] { 2 }, 6, 7) });
        var diag = new Parameter("diag", new[] { 3 }, true);
        var column = new Parameter("column", new[] { 1, 2, 1 }, true);
        SafeTensors.Load(path, new[] { diag, column }, new Dictionary<string, string> { ["boft_s"] = "diag", ["v"] = "column" });
        Assert.Equal(new[] { 3f, 4f, 5f }, diag.Data);
        Assert.Equal(new[] { 6f, 7f }, column.Data);
    }

    [Fact]
    public void Load_WithNames_StillRefusesMovedOrOtherDimensions()
    {
        // [1, 3] into [3, 1] moves the unit dimension (a row for a column: lora_A for lora_B at rank 1); [1, 3] into
        // [3] would be fine, so both are checked against each other; and a [2, 2] is no [4].
        string path = SaveAB();
        var names = new Dictionary<string, string>();
        var e = Assert.Throws<InvalidDataException>(() =>
            SafeTensors.Load(path, new[] { new Parameter("a", new[] { 2 }, true), new Parameter("b", new[] { 3, 1 }, true) }, names));
        Assert.Contains("expected shape [3, 1]", e.Message);
        var squeezed = new Parameter("b", new[] { 3 }, true);
        SafeTensors.Load(path, new[] { new Parameter("a", new[] { 2 }, true), squeezed }, names);
        Assert.Equal(new[] { 3f, 4f, 5f }, squeezed.Data);

        string square = TempFile("square.safetensors");
        SafeTensors.Save(square, new[] { Make("m", new[] { 2, 2 }, 1, 2, 3, 4) });
        e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(square, new[] { new Parameter("m", new[] { 4 }, true) }, names));
        Assert.Contains("file has [2, 2]", e.Message);
    }

    [Fact]
    public void Load_WithoutNames_WantsTheExactShape()
    {
        // A StructMat file is read as written: [1, 3] does not load into [3] without the name-map overload.
        string path = SaveAB();
        var e = Assert.Throws<InvalidDataException>(() =>
            SafeTensors.Load(path, new[] { new Parameter("a", new[] { 2 }, true), new Parameter("b", new[] { 3 }, true) }));
        Assert.Contains("expected shape [3]", e.Message);
    }

    [Fact]
    public void Load_DuplicateParameterNames_AreAnArgumentError()
    {
        string path = SaveAB();
        Assert.Throws<ArgumentException>(() => SafeTensors.Load(path, new[] { new Parameter("a", new[] { 2 }, true), new Parameter("a", new[] { 2 }, true) }, strict: false));
    }

    /// <summary>
    /// A sparse file of about 2.4 GB: one tensor of 600,000,000 floats (unwritten: the file system stores no data for it)
    /// between two small ones whose bytes are written. The header alone describes the big one.
    /// </summary>
    private string SparseFile()
    {
        const long big = 600_000_000;
        var header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}," +
                     $"\"big\":{{\"dtype\":\"F32\",\"shape\":[{big}],\"data_offsets\":[12,{12 + 4 * big}]}}," +
                     $"\"z\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[{12 + 4 * big},{20 + 4 * big}]}}}}";
        header += Spaces((8 - header.Length % 8) % 8);
        var path = TempFile("sparse.safetensors");
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        file.Write(prefix);
        file.Write(Encoding.UTF8.GetBytes(header));
        long data = file.Position;
        file.Write(Floats(1f, 2f, 3f));
        file.SetLength(data + 20 + 4 * big);
        file.Position = data + 12 + 4 * big;
        file.Write(Floats(7f, 8f));
        return path;
    }

    [Fact]
    public void Load_OfAMultiGigabyteFile_ChecksTheHeaderFirstAndReadsOnlyTheParametersTensors()
    {
        var path = SparseFile();
        var a = new Parameter("a", new[] { 3 }, trainable: false);
        var z = new Parameter("z", new[] { 2 }, trainable: false);

        // A wrong file fails from its header: no tensor data is read, nothing is allocated for it.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var strict = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, new[] { a, z }));
        Assert.Contains("unexpected tensors: big", strict.Message);
        var wrongShape = new Parameter("big", new[] { 3 }, trainable: false);
        var shape = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, new[] { a, wrongShape, z }));
        Assert.Contains("tensor 'big' expected shape [3], file has [600000000]", shape.Message);
        Assert.Equal(new float[3], a.Data); // nothing written

        // A non-strict load reads the two small tensors where they lie, past the big one.
        SafeTensors.Load(path, new[] { a, z }, strict: false);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(new[] { 1f, 2f, 3f }, a.Data);
        Assert.Equal(new[] { 7f, 8f }, z.Data);
        Assert.True(allocated < 4 * 1024 * 1024, $"{allocated} bytes allocated loading 20 bytes of a 2.4 GB file");

        // Through a name map too, and the header's names alone, without the data.
        var renamed = new Parameter("renamed", new[] { 2 }, trainable: false);
        SafeTensors.Load(path, new[] { renamed }, new Dictionary<string, string> { ["z"] = "renamed" }, strict: false);
        Assert.Equal(new[] { 7f, 8f }, renamed.Data);
    }

    [Fact]
    public void Load_FromStream()
    {
        var source = new[] { Random("weight", new[] { 4, 2 }, 30) };
        var target = new[] { new Parameter("weight", new[] { 4, 2 }, true) };
        SafeTensors.Load(new MemoryStream(SafeTensors.Serialize(source)), target);
        Assert.Equal(source[0].Data, target[0].Data);
    }

    [Fact]
    public void LayerWeights_SaveAndLoadThroughTheLayerInterface()
    {
        var layer = new FakeLayer();
        TestData.Uniform(layer.Parameters[0].Length, 40).CopyTo(layer.Parameters[0].Data, 0);
        TestData.Uniform(layer.Parameters[1].Length, 41).CopyTo(layer.Parameters[1].Data, 0);
        string path = TempFile("layer.safetensors");
        layer.SaveSafeTensors(path);
        Assert.Equal(new[] { "terms.0.weight", "terms.1.lora_A" }, SafeTensors.Read(path).Keys.OrderBy(n => n, StringComparer.Ordinal));

        var copy = new FakeLayer();
        copy.LoadSafeTensors(path);
        Assert.Equal(layer.Parameters[0].Data, copy.Parameters[0].Data);
        Assert.Equal(layer.Parameters[1].Data, copy.Parameters[1].Data);
        Assert.NotEqual(new float[copy.Parameters[1].Length], copy.Parameters[1].Data);
    }

    private sealed class FakeLayer : IStructuredLayer
    {
        public IReadOnlyList<Parameter> Parameters { get; } = new[]
        {
            new Parameter("terms.0.weight", new[] { 3, 4 }, trainable: false),
            new Parameter("terms.1.lora_A", new[] { 2, 4 }, trainable: true),
        };

        public int InFeatures => 4;
        public int OutFeatures => 3;
        public long ParameterCount => 20;
        public long TrainableParameterCount => 8;
        public long FlopsPerRow => 12;
        public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch) => throw new NotSupportedException();
        public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch) => throw new NotSupportedException();
        public void ZeroGrad() { }
        public double[] ToDenseDouble() => throw new NotSupportedException();
        public float[] ToDense() => throw new NotSupportedException();

        public float[] Merge() => throw new NotSupportedException();
    }

    /// <summary>A stream that cannot seek and reports no length, like a network stream.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
