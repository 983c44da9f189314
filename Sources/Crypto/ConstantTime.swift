/// Compares secrets (signatures, key digests) in time that does not depend on where they differ.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            for i in 0..<min(x.count, y.count) { diff |= x[i] ^ y[i] }
        }
    }
    return diff == 0
}

/// The same for text (hex signatures, base64 MD5s).
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    constantTimeEquals(Array(a.utf8), Array(b.utf8))
}
