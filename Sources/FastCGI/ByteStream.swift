/// A source of bytes read in pieces, so no stage holds a whole body.
public protocol ByteStream: AnyObject {
    /// Fills up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

public enum StreamError: Error, Equatable {
    /// The client sent fewer bytes than it announced, or the connection broke.
    case truncated
    /// The client (or nginx) went away while we were writing.
    case clientGone
}

extension ByteStream {
    /// Reads until `buffer` is full or the stream ends.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var total = 0
        while total < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Reads the rest of a small body (XML requests); refuses more than `limit` bytes.
    public func readAll(limit: Int) throws -> [UInt8]? {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out += chunk[0..<n]
            if out.count > limit { return nil }
        }
    }
}

/// An in-memory stream, for small bodies and tests.
public final class BytesStream: ByteStream {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[position..<position + n]))
        }
        position += n
        return n
    }
}
