using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace StructMat.Runtime.IO;

/// <summary>
/// Reads and writes the Hugging Face <c>.safetensors</c> format: an 8-byte little-endian header length <c>N</c>,
/// <c>N</c> bytes of UTF-8 JSON (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}</c>),
/// then the tensors' little-endian bytes, contiguous, offsets relative to the start of that buffer.
/// </summary>
/// <remarks>
/// <para>Writing follows the reference writer (huggingface/safetensors, <c>tensor.rs</c>): compact JSON with
/// <c>__metadata__</c> first, tensors in the reference's order: descending dtype (F32, then I8, then U8: the codes of
/// quantised bases), then name, names compared by their UTF-8 bytes, the header padded with spaces to a
/// multiple of 8 bytes, data in header order. Metadata keys are written sorted, which makes the bytes
/// deterministic; an empty or null metadata map is omitted.</para>
/// <para>Reading validates like the reference reader and more: the header is at most 100,000,000 bytes and fits in
/// the file, is UTF-8 JSON whose root is an object, every tensor has a known dtype, non-negative integer shape and
/// two offsets, its byte size equals its shape's element count times the dtype size, tensors sorted by offset start
/// at 0, neither overlap nor leave gaps, and end exactly at the end of the file; names are unique. A violation is an
/// <see cref="InvalidDataException"/> naming the tensor and the numbers. Nothing is allocated from a declared
/// length before that length has been checked against the real size of the file.</para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>The reference reader's limit on the JSON header (<c>MAX_HEADER_SIZE</c>).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes <paramref name="parameters"/> (their names and shapes as given) to a new file: float parameters as F32, the
    /// codes of quantised bases as U8 (NF4, two codes per byte) or I8 (int8), their bytes as they are.
    /// </summary>
    /// <remarks>The file is written next to <paramref name="path"/> under a temporary name and then moved over it,
    /// so a failure never leaves a half-written file behind.</remarks>
    public static void Save(string path, IEnumerable<Parameter> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = Serialize(parameters, metadata);
        string full = Path.GetFullPath(path);
        string temporary = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Writes <paramref name="parameters"/> to <paramref name="stream"/> at its current position, as <see cref="Save(string, IEnumerable{Parameter}, IReadOnlyDictionary{string, string}?)"/> does.</summary>
    public static void Save(Stream stream, IEnumerable<Parameter> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = Serialize(parameters, metadata);
        stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>The exact bytes <see cref="Save(Stream, IEnumerable{Parameter}, IReadOnlyDictionary{string, string}?)"/> writes.</summary>
    public static byte[] Serialize(IEnumerable<Parameter> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<(string Name, byte[] NameUtf8, int[] Shape, Parameter Parameter)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            if (parameter is null) throw new ArgumentException("The parameter list contains a null entry.", nameof(parameters));
            string name = parameter.Name;
            if (name == MetadataKey)
                throw new ArgumentException($"A tensor cannot be named '{MetadataKey}': the format reserves that key.", nameof(parameters));
            if (!seen.Add(name))
                throw new ArgumentException($"Two parameters are named '{name}'; safetensors names must be unique.", nameof(parameters));
            long count = 1;
            foreach (int dim in parameter.Shape)
            {
                if (dim < 0) throw new ArgumentException($"Parameter '{name}' has a negative dimension {dim}.", nameof(parameters));
                count = checked(count * dim);
            }
            if (count != parameter.Length)
                throw new ArgumentException(
                    $"Parameter '{name}' has shape [{FormatShape(parameter.Shape)}] ({count} elements) but {parameter.Length} data elements.",
                    nameof(parameters));
            list.Add((name, EncodeName(name, nameof(parameters)), (int[])parameter.Shape.Clone(), parameter));
        }
        list.Sort((a, b) =>
        {
            int byType = DTypeRank(b.Parameter.ElementType).CompareTo(DTypeRank(a.Parameter.ElementType));
            return byType != 0 ? byType : a.NameUtf8.AsSpan().SequenceCompareTo(b.NameUtf8);
        });

        var header = new StringBuilder();
        header.Append('{');
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            var entries = new List<(byte[] KeyUtf8, string Key, string Value)>();
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                    throw new ArgumentException("Metadata keys and values must be non-null strings.", nameof(metadata));
                entries.Add((EncodeName(key, nameof(metadata)), key, value));
            }
            entries.Sort((a, b) => a.KeyUtf8.AsSpan().SequenceCompareTo(b.KeyUtf8));
            AppendJsonString(header, MetadataKey);
            header.Append(":{");
            for (int k = 0; k < entries.Count; k++)
            {
                if (k > 0) header.Append(',');
                AppendJsonString(header, entries[k].Key);
                header.Append(':');
                AppendJsonString(header, entries[k].Value);
            }
            header.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var tensor in list)
        {
            if (!first) header.Append(',');
            first = false;
            long end = offset + (long)StoredSize(tensor.Parameter.ElementType) * tensor.Parameter.Length;
            AppendJsonString(header, tensor.Name);
            header.Append(":{\"dtype\":\"").Append(DTypeOf(tensor.Parameter.ElementType)).Append("\",\"shape\":[");
            header.Append(string.Join(",", tensor.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))));
            header.Append("],\"data_offsets\":[");
            header.Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',').Append(end.ToString(CultureInfo.InvariantCulture));
            header.Append("]}");
            offset = end;
        }
        header.Append('}');

        byte[] json = EncodeName(header.ToString(), nameof(parameters));
        int padded = checked((json.Length + 7) / 8 * 8);
        if (padded > MaxHeaderBytes)
            throw new ArgumentException($"The header would be {padded} bytes, over the format's {MaxHeaderBytes}-byte limit.", nameof(parameters));
        long total = checked(8L + padded + offset);
        if (total > Array.MaxLength)
            throw new ArgumentException($"The file would be {total} bytes; this writer holds it in one array (at most {Array.MaxLength}).", nameof(parameters));

        var bytes = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        int position = 8 + padded;
        foreach (var tensor in list)
        {
            var parameter = tensor.Parameter;
            var target = bytes.AsSpan(position, StoredSize(parameter.ElementType) * parameter.Length);
            if (parameter.ElementType != ElementType.Float32)
                parameter.Bytes.CopyTo(target);
            else if (BitConverter.IsLittleEndian)
                MemoryMarshal.AsBytes(parameter.Data.AsSpan()).CopyTo(target);
            else
                for (int k = 0; k < parameter.Length; k++)
                    BinaryPrimitives.WriteSingleLittleEndian(target.Slice(4 * k), parameter.Data[k]);
            position += target.Length;
        }
        return bytes;
    }

    /// <summary>The reference writer's order of dtypes (its enum order; larger first).</summary>
    private static int DTypeRank(ElementType type) => type switch { ElementType.Float32 => 2, ElementType.Int8 => 1, _ => 0 };

    private static string DTypeOf(ElementType type) => type switch { ElementType.Float32 => "F32", ElementType.Int8 => "I8", _ => "U8" };

    private static int StoredSize(ElementType type) => type == ElementType.Float32 ? 4 : 1;

    private static byte[] EncodeName(string text, string argument)
    {
        try
        {
            return StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"'{text}' is not valid Unicode (unpaired surrogate): {e.Message}", argument, e);
        }
    }

    /// <summary>A JSON string the way serde_json writes it: only <c>"</c>, <c>\</c> and control characters are escaped.</summary>
    private static void AppendJsonString(StringBuilder builder, string text)
    {
        builder.Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20) builder.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Reads every tensor of a <c>.safetensors</c> file, converted to float32, in file order.</summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the tensor and the problem.</exception>
    /// <exception cref="NotSupportedException">A tensor has a dtype other than F32, F16, BF16 or F64.</exception>
    public static IReadOnlyDictionary<string, Tensor> Read(string path) => ReadContent(path).Tensors;

    /// <inheritdoc cref="Read(string)"/>
    public static IReadOnlyDictionary<string, Tensor> Read(Stream stream) => ReadContent(stream).Tensors;

    /// <summary>Reads the tensors and the <c>__metadata__</c> map (empty when the file has none).</summary>
    public static SafeTensorsContent ReadContent(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ReadCore(stream, $"'{path}'");
    }

    /// <summary>Reads the tensors and the <c>__metadata__</c> map from <paramref name="stream"/>'s current position
    /// to its end (a stream that cannot seek is first copied to memory).</summary>
    public static SafeTensorsContent ReadContent(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek) return ReadCore(stream, "the stream");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return ReadCore(copy, "the stream");
    }

    private sealed record Entry(string Name, string DType, int ElementSize, int[] Shape, ulong Begin, ulong End);

    /// <summary>A validated header: its tensors in data order, its metadata, and where in the stream the data begins.</summary>
    private sealed record Header(List<Entry> Ordered, Dictionary<string, string> Metadata, long DataStart);

    /// <summary>
    /// Reads and validates the header (see the remarks on <see cref="SafeTensors"/>) and nothing of the data: the stream is
    /// left at the start of the data buffer.
    /// </summary>
    private static Header ReadHeader(Stream stream, string source)
    {
        long available = stream.Length - stream.Position;
        if (available < 8)
            throw Invalid(source, $"is {available} bytes long, shorter than the 8-byte header length.");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw Invalid(source, $"declares a header of {headerLength} bytes, over the {MaxHeaderBytes}-byte limit.");
        if (headerLength > (ulong)(available - 8))
            throw Invalid(source, $"declares a header of {headerLength} bytes but only {available - 8} bytes follow the length.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        ulong bufferLength = (ulong)(available - 8) - headerLength;

        string headerText;
        try
        {
            headerText = StrictUtf8.GetString(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Invalid(source, $"has a header that is not valid UTF-8: {e.Message}");
        }

        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(headerText);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid(source, $"has a JSON header whose root is {root.ValueKind}, not an object.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata) throw Invalid(source, $"has '{MetadataKey}' twice in its header.");
                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata, source);
                    continue;
                }
                if (!names.Add(property.Name))
                    throw Invalid(source, $"names tensor '{property.Name}' twice in its header.");
                entries.Add(ReadEntry(property.Name, property.Value, source));
            }
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"has a header that is not valid JSON: {e.Message}");
        }

        // Every tensor inside the buffer, then sorted by offset: contiguous from 0 to the end of the file.
        foreach (var entry in entries)
            if (entry.End > bufferLength)
                throw Invalid(source, $"tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}] beyond the {bufferLength}-byte data buffer.");
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        ulong position = 0;
        Entry? previous = null;
        foreach (var entry in ordered)
        {
            if (entry.Begin < position)
                throw Invalid(source, $"tensor '{entry.Name}' (data_offsets [{entry.Begin}, {entry.End}]) overlaps tensor '{previous!.Name}' (data_offsets [{previous.Begin}, {previous.End}]).");
            if (entry.Begin > position)
                throw Invalid(source, $"tensor '{entry.Name}' starts at byte {entry.Begin} but the previous tensor ends at {position}: {entry.Begin - position} bytes belong to no tensor.");
            position = entry.End;
            previous = entry;
        }
        if (position != bufferLength)
            throw Invalid(source, $"has a {bufferLength}-byte data buffer but its tensors cover only {position} bytes.");
        return new Header(ordered, metadata, stream.Position);
    }

    private static SafeTensorsContent ReadCore(Stream stream, string source)
    {
        var (ordered, metadata, _) = ReadHeader(stream, source);
        foreach (var entry in ordered)
        {
            if (entry.DType is not ("F32" or "F16" or "BF16" or "F64" or "U8" or "I8"))
                throw new NotSupportedException(
                    $"Tensor '{entry.Name}' in {source} has dtype {entry.DType}; only F32, F16, BF16 and F64 tensors (read as float32) and U8 and I8 tensors (read as bytes) can be read.");
            if ((entry.End - entry.Begin) / (ulong)entry.ElementSize > (ulong)Array.MaxLength)
                throw new NotSupportedException(
                    $"Tensor '{entry.Name}' in {source} has {(entry.End - entry.Begin) / (ulong)entry.ElementSize} elements, more than one array can hold.");
        }

        // The data: tensors are contiguous, so the reads are sequential.
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var chunk = new byte[1 << 16];
        foreach (var entry in ordered)
        {
            if (entry.DType is "U8" or "I8")
            {
                var raw = new byte[entry.End - entry.Begin];
                try
                {
                    stream.ReadExactly(raw);
                }
                catch (EndOfStreamException)
                {
                    throw Invalid(source, $"ended inside tensor '{entry.Name}' (the file changed while it was read?).");
                }
                tensors.Add(entry.Name, new Tensor(entry.DType, entry.Shape, Array.Empty<float>()) { Bytes = raw });
                continue;
            }
            var data = new float[(entry.End - entry.Begin) / (ulong)entry.ElementSize];
            ReadElements(stream, entry, data, chunk, source);
            tensors.Add(entry.Name, new Tensor(entry.DType, entry.Shape, data));
        }
        return new SafeTensorsContent(
            new ReadOnlyDictionary<string, Tensor>(tensors),
            new ReadOnlyDictionary<string, string>(metadata));
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(source, $"has '{MetadataKey}' of kind {value.ValueKind}; it must be an object of strings.");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(source, $"has metadata '{item.Name}' of kind {item.Value.ValueKind}; metadata values must be strings.");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Invalid(source, $"has metadata key '{item.Name}' twice.");
        }
    }

    private static Entry ReadEntry(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(source, $"tensor '{name}' is described by a JSON {value.ValueKind}, not an object.");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(source, $"tensor '{name}' has no string 'dtype'.");
        string dtype = dtypeElement.GetString()!;
        int elementSize = ElementSize(dtype)
            ?? throw Invalid(source, $"tensor '{name}' has unknown dtype '{dtype}'.");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Invalid(source, $"tensor '{name}' has no 'shape' array.");
        var shape = new int[shapeElement.GetArrayLength()];
        ulong elements = 1;
        bool overflow = false;
        int d = 0;
        foreach (var dimElement in shapeElement.EnumerateArray())
        {
            if (dimElement.ValueKind != JsonValueKind.Number || !dimElement.TryGetUInt64(out ulong dim))
                throw Invalid(source, $"tensor '{name}' has shape entry {dimElement.GetRawText()}, not a non-negative integer.");
            if (dim > int.MaxValue)
                throw Invalid(source, $"tensor '{name}' has dimension {dim}, larger than {int.MaxValue}.");
            shape[d++] = (int)dim;
            if (!overflow)
            {
                try { elements = checked(elements * dim); }
                catch (OverflowException) { overflow = true; }
            }
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw Invalid(source, $"tensor '{name}' has no 'data_offsets' array of two integers.");
        if (!offsetsElement[0].TryGetUInt64Safe(out ulong begin) || !offsetsElement[1].TryGetUInt64Safe(out ulong end))
            throw Invalid(source, $"tensor '{name}' has data_offsets {offsetsElement.GetRawText()}, not two non-negative integers.");
        if (end < begin)
            throw Invalid(source, $"tensor '{name}' has data_offsets [{begin}, {end}] that end before they begin.");

        ulong bytes = 0;
        if (!overflow)
        {
            try { bytes = checked(elements * (ulong)elementSize); }
            catch (OverflowException) { overflow = true; }
        }
        if (overflow)
            throw Invalid(source, $"tensor '{name}' has shape [{FormatShape(shape)}] whose byte size overflows 64 bits.");
        if (end - begin != bytes)
            throw Invalid(source,
                $"tensor '{name}' has shape [{FormatShape(shape)}] of {dtype}, {elements} elements = {bytes} bytes, but data_offsets [{begin}, {end}] hold {end - begin} bytes.");
        return new Entry(name, dtype, elementSize, shape, begin, end);
    }

    private static bool TryGetUInt64Safe(this JsonElement element, out ulong value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetUInt64(out value);
    }

    private static int? ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" => 8,
        _ => null,
    };

    private static void ReadElements(Stream stream, Entry entry, float[] data, byte[] chunk, string source)
    {
        int size = entry.ElementSize;
        int perChunk = chunk.Length / size;
        for (int start = 0; start < data.Length; start += perChunk)
        {
            int count = Math.Min(perChunk, data.Length - start);
            var bytes = chunk.AsSpan(0, count * size);
            try
            {
                stream.ReadExactly(bytes);
            }
            catch (EndOfStreamException)
            {
                throw Invalid(source, $"ended inside tensor '{entry.Name}' (the file changed while it was read?).");
            }
            var target = data.AsSpan(start, count);
            switch (entry.DType)
            {
                case "F32":
                    if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(bytes).CopyTo(target);
                    else for (int k = 0; k < count; k++) target[k] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * k));
                    break;
                case "F16":
                    for (int k = 0; k < count; k++) target[k] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(2 * k));
                    break;
                case "BF16":
                    for (int k = 0; k < count; k++)
                        target[k] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * k)) << 16);
                    break;
                case "F64":
                    for (int k = 0; k < count; k++) target[k] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(8 * k));
                    break;
                default:
                    throw new InvalidOperationException($"Unreachable: dtype {entry.DType} was accepted.");
            }
        }
    }

    private static InvalidDataException Invalid(string source, string problem)
        => new(problem.StartsWith("tensor ", StringComparison.Ordinal)
            ? $"Safetensors {source}: {problem}"
            : $"Safetensors {source} {problem}");

    // ---------------------------------------------------------------- loading into parameters

    /// <summary>
    /// Fills each parameter from the file's tensor of the same name (float parameters from F32, F16, BF16 or F64; the
    /// codes of a quantised base from U8 or I8). Shapes must match exactly. Every parameter must be present; with
    /// <paramref name="strict"/> the file must also hold no other tensor. Names, dtypes and shapes are checked from the
    /// header before any tensor data is read, so a file that does not fit fails at once and changes nothing; then only
    /// the parameters' tensors are read, each straight into its parameter (64 KB at a time for conversions): a load needs
    /// no memory beyond the parameters, whatever else the file holds. (Should the file change between the check and the
    /// read, a parameter read so far keeps its new value.)
    /// </summary>
    /// <exception cref="InvalidDataException">Missing or unexpected tensors (all listed), a dtype or shape mismatch
    /// (tensor, expected and actual), or a malformed file.</exception>
    public static void Load(string path, IReadOnlyList<Parameter> parameters, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(parameters);
        using var stream = OpenRead(path);
        LoadFrom(stream, $"'{path}'", parameters, name => name, strict, unitDimensions: false);
    }

    /// <inheritdoc cref="Load(string, IReadOnlyList{Parameter}, bool)"/>
    public static void Load(Stream stream, IReadOnlyList<Parameter> parameters, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(parameters);
        if (stream.CanSeek)
        {
            LoadFrom(stream, "the stream", parameters, name => name, strict, unitDimensions: false);
            return;
        }
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        LoadFrom(copy, "the stream", parameters, name => name, strict, unitDimensions: false);
    }

    /// <summary>
    /// <see cref="Load(string, IReadOnlyList{Parameter}, bool)"/> for files whose tensors are named differently (e.g.
    /// PEFT's <c>base_layer.weight</c>): <paramref name="fileNames"/> maps file tensor names to parameter names; tensors
    /// it does not mention keep their own name. Such files may also shape a tensor with unit dimensions the parameter
    /// lacks, or without ones it has (PEFT's <c>boft_s [out, 1]</c> for a diagonal <c>[out]</c>): a tensor loads when
    /// dropping the unit dimensions of one shape gives the other; the data, row-major, is the same.
    /// </summary>
    public static void Load(string path, IReadOnlyList<Parameter> parameters, IReadOnlyDictionary<string, string> fileNames, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(fileNames);
        using var stream = OpenRead(path);
        LoadFrom(stream, $"'{path}'", parameters, name => fileNames.TryGetValue(name, out var mapped) ? mapped : name, strict, unitDimensions: true);
    }

    /// <summary>The names of a file's tensors, from its header alone.</summary>
    internal static IReadOnlyList<string> TensorNames(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, $"'{path}'").Ordered.Select(e => e.Name).ToList();
    }

    private static FileStream OpenRead(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    /// <summary>What the checks need of a tensor: its dtype, shape and element count.</summary>
    private readonly record struct TensorInfo(string DType, int[] Shape, long Elements);

    /// <summary>The header's tensors under their parameter names (<paramref name="rename"/>), checked against the parameters, then read into them.</summary>
    internal static void LoadFrom(Stream stream, string source, IReadOnlyList<Parameter> parameters, Func<string, string> rename, bool strict, bool unitDimensions)
    {
        var header = ReadHeader(stream, source);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var entry in header.Ordered)
        {
            var target = rename(entry.Name);
            if (!entries.TryAdd(target, entry))
                throw new InvalidDataException($"Safetensors {source}: two tensors map to the parameter name '{target}'.");
        }
        Check(entries.ToDictionary(e => e.Key, e => new TensorInfo(e.Value.DType, e.Value.Shape, (long)((e.Value.End - e.Value.Begin) / (ulong)e.Value.ElementSize)), StringComparer.Ordinal),
            parameters, strict, source, unitDimensions);

        // Read each wanted tensor where it lies, in file order.
        var chunk = new byte[1 << 16];
        foreach (var (parameter, entry) in parameters.Select(p => (p, entries[p.Name])).OrderBy(t => t.Item2.Begin))
        {
            stream.Position = header.DataStart + (long)entry.Begin;
            if (parameter.ElementType == ElementType.Float32)
            {
                ReadElements(stream, entry, parameter.Data, chunk, source);
                continue;
            }
            try
            {
                stream.ReadExactly(parameter.Bytes);
            }
            catch (EndOfStreamException)
            {
                throw Invalid(source, $"ended inside tensor '{entry.Name}' (the file changed while it was read?).");
            }
        }
    }

    /// <summary>Every parameter has a tensor of its dtype and shape; with <paramref name="strict"/>, no tensor is left over.</summary>
    private static void Check(IReadOnlyDictionary<string, TensorInfo> tensors, IReadOnlyList<Parameter> parameters, bool strict, string source, bool unitDimensions)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            if (parameter is null) throw new ArgumentException("The parameter list contains a null entry.", nameof(parameters));
            if (!wanted.Add(parameter.Name))
                throw new ArgumentException($"Two parameters are named '{parameter.Name}'.", nameof(parameters));
        }

        var missing = parameters.Where(p => !tensors.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        var unexpected = strict ? tensors.Keys.Where(n => !wanted.Contains(n)).ToList() : new List<string>();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            var problems = new List<string>();
            if (missing.Count > 0) problems.Add($"missing tensors: {string.Join(", ", missing)}");
            if (unexpected.Count > 0) problems.Add($"unexpected tensors: {string.Join(", ", unexpected)}");
            throw new InvalidDataException(
                $"Safetensors {source} does not match the parameters ({(strict ? "strict" : "non-strict")} load): {string.Join("; ", problems)}.");
        }

        var mismatches = new List<string>();
        foreach (var parameter in parameters)
        {
            var tensor = tensors[parameter.Name];
            var fits = tensor.Shape.AsSpan().SequenceEqual(parameter.Shape)
                || unitDimensions && (Squeeze(tensor.Shape).AsSpan().SequenceEqual(parameter.Shape) || Squeeze(parameter.Shape).AsSpan().SequenceEqual(tensor.Shape));
            var expectedType = DTypeOf(parameter.ElementType);
            var typeFits = parameter.ElementType == ElementType.Float32 ? tensor.DType is "F32" or "F16" or "BF16" or "F64" : tensor.DType == expectedType;
            if (!typeFits)
                mismatches.Add($"tensor '{parameter.Name}' expected dtype {(parameter.ElementType == ElementType.Float32 ? "F32 (or F16, BF16, F64)" : expectedType)}, file has {tensor.DType}");
            else if (!fits || tensor.Elements != parameter.Length)
                mismatches.Add($"tensor '{parameter.Name}' expected shape [{FormatShape(parameter.Shape)}], file has [{FormatShape(tensor.Shape)}]");
        }
        if (mismatches.Count > 0)
            throw new InvalidDataException($"Safetensors {source} has tensors that do not fit: {string.Join("; ", mismatches)}.");
    }

    private static string FormatShape(int[] shape) => string.Join(", ", shape);

    /// <summary>A shape without its unit dimensions ([8, 1] is [8]; [1, 1] is []).</summary>
    private static int[] Squeeze(int[] shape) => shape.Where(d => d != 1).ToArray();
}
