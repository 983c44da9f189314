import COpenSSL
import CSystem

/// A 256-bit key held outside Swift's copy-on-write storage so it can be wiped:
/// the bytes live in one allocation that is excluded from core dumps and zeroed on release.
public final class SecretKey: @unchecked Sendable {
    public static let byteCount = 32
    let storage: UnsafeMutableRawBufferPointer

    /// Decodes base64 text; nil unless it is valid base64 of exactly 32 bytes.
    public init?(base64 text: some Collection<UInt8>) {
        // Room for one extra group so that over-long keys are detected rather than truncated.
        storage = .allocate(byteCount: SecretKey.byteCount + 3, alignment: 16)
        liteio_exclude_from_dump(storage.baseAddress, storage.count)
        // On failure deinit still runs (the object is fully initialised) and wipes.
        guard Base64.decode(text, into: storage) == SecretKey.byteCount else { return nil }
    }

    deinit {
        wipe()
        storage.deallocate()
    }

    private func wipe() {
        OPENSSL_cleanse(storage.baseAddress, storage.count)  // a wipe the optimiser cannot drop
    }

    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<SecretKey.byteCount]))
    }

    /// MD5 of the key, as SSE-C stores and compares it.
    public var md5: [UInt8] {
        let d = Digest(.md5)
        withBytes { d.update($0) }
        return d.finish()
    }
}
