import COpenSSL

public enum Random {
    /// Cryptographically strong random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "RAND_bytes failed")
        return out
    }

    public static func hex(_ count: Int) -> String { bytes(count).hex }
}
