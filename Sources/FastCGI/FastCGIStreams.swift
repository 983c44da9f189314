import CFastCGI
import Glibc

/// The request body: libfcgi's stdin stream, bounded by CONTENT_LENGTH when nginx sent one
/// (chunked uploads arrive with an empty CONTENT_LENGTH and end at EOF).
final class FastCGIInput: ByteStream {
    private let stream: UnsafeMutablePointer<FCGX_Stream>
    private var remaining: UInt64?
    private(set) var bytesRead: UInt64 = 0

    init(stream: UnsafeMutablePointer<FCGX_Stream>, contentLength: UInt64?) {
        self.stream = stream
        self.remaining = contentLength
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var want = buffer.count
        if let left = remaining { want = Int(min(UInt64(want), left)) }
        if want == 0 { return 0 }
        let n = Int(FCGX_GetStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(want), stream))
        if n <= 0 {
            // EOF before the announced length, or a broken connection.
            if remaining != nil || FCGX_GetError(stream) != 0 { throw StreamError.truncated }
            return 0
        }
        if let left = remaining { remaining = left - UInt64(n) }
        bytesRead += UInt64(n)
        return n
    }
}

/// The response: small writes go through libfcgi's stream; large ones bypass its fixed 8 KiB
/// buffer (one write(2) per 8 KiB) and go out as 64 KiB FCGI_STDOUT records written straight to
/// the connection, after flushing whatever the stream still holds so the order is kept.
final class FastCGIOutput: OutputSink {
    private let stream: UnsafeMutablePointer<FCGX_Stream>
    private let fd: Int32
    private let requestID: UInt16
    static let directThreshold = 16 * 1024
    /// The largest record content that is a multiple of 8, so no padding is needed.
    static let recordContent = 65528

    init(stream: UnsafeMutablePointer<FCGX_Stream>, fd: Int32, requestID: Int32) {
        self.stream = stream
        self.fd = fd
        self.requestID = UInt16(truncatingIfNeeded: requestID)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= FastCGIOutput.directThreshold else {
            // -1 means nginx closed the connection: stop all work for this request.
            guard FCGX_PutStr(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), stream)
                == Int32(bytes.count) else { throw StreamError.clientGone }
            return
        }
        guard FCGX_FFlush(stream) == 0 else { throw StreamError.clientGone }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, FastCGIOutput.recordContent)
            var header: [UInt8] = [1, 6, UInt8(requestID >> 8), UInt8(requestID & 0xff), UInt8(n >> 8), UInt8(n & 0xff), 0, 0]
            try header.withUnsafeMutableBytes { h in
                try writeAll([UnsafeRawBufferPointer(h), UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])])
            }
            offset += n
        }
    }

    /// writev until every byte is out; EPIPE/ECONNRESET mean the client is gone.
    private func writeAll(_ pieces: [UnsafeRawBufferPointer]) throws {
        var vectors = pieces.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        var index = 0
        while index < vectors.count {
            let n = vectors[index...].withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32($0.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamError.clientGone
            }
            var left = n
            while index < vectors.count && left >= vectors[index].iov_len {
                left -= vectors[index].iov_len
                index += 1
            }
            if left > 0 {
                vectors[index].iov_base = vectors[index].iov_base.advanced(by: left)
                vectors[index].iov_len -= left
            }
        }
    }
}
