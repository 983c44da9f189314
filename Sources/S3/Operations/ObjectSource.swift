import Crypto
import FastCGI
import Storage

/// A byte range of a stored object as plaintext: read from disk and, for SSE-C objects,
/// decrypted starting at the cipher block of the first byte. Feeds GET responses and copies.
final class ObjectSource: ByteStream {
    private let object: ObjectReader
    private let layout: CipherLayout?
    private let key: SecretKey?
    private var position: UInt64
    private let end: UInt64

    init(_ object: ObjectReader, range: Range<UInt64>, key: SecretKey?) {
        self.object = object
        layout = key == nil ? nil : CipherLayout(object.metadata)
        self.key = key
        position = range.lowerBound
        end = range.upperBound
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard position < end else { return 0 }
        let want = Int(min(UInt64(buffer.count), end - position))
        let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
        let n = try object.read(into: chunk, at: position)
        guard n == want else { throw S3Error.internalError }  // the file is shorter than its metadata says
        if let layout, let key { layout.decrypt(chunk, at: position, key: key) }
        position += UInt64(n)
        return n
    }
}
