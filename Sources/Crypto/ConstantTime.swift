/// Compares secrets (signatures, key digests) in time that does not depend on where they differ.
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}
