/// Standard base64 (RFC 4648, padded), without Foundation so that decoded secrets
/// can be written straight into memory the caller controls and wipes.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i < input.count {
            let b0 = Int(input[i])
            let b1 = i + 1 < input.count ? Int(input[i + 1]) : 0
            let b2 = i + 2 < input.count ? Int(input[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[((b0 & 3) << 4) | (b1 >> 4)])
            out.append(i + 1 < input.count ? alphabet[((b1 & 15) << 2) | (b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < input.count ? alphabet[b2 & 63] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes into `output`; returns the number of bytes written, or nil when the text
    /// is not valid padded base64 or would not fit.
    public static func decode(_ text: some Collection<UInt8>, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let chars = Array(text)
        guard chars.count % 4 == 0 else { return nil }
        var written = 0
        var i = 0
        // Decodes in registers only: no temporary buffer holds secret bytes.
        while i < chars.count {
            var group = 0
            var padding = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == UInt8(ascii: "=") {
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    padding += 1
                    group <<= 6
                } else {
                    let v = values[Int(c)]
                    guard padding == 0, v >= 0 else { return nil }
                    group = group << 6 | Int(v)
                }
            }
            let n = 3 - padding
            guard written + n <= output.count else { return nil }
            for k in 0..<n { output[written + k] = UInt8(truncatingIfNeeded: group >> (16 - 8 * k)) }
            written += n
            i += 4
        }
        return written
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: text.utf8.count / 4 * 3)
        guard let n = out.withUnsafeMutableBytes({ decode(text.utf8, into: $0) }) else { return nil }
        return Array(out[0..<n])
    }
}
