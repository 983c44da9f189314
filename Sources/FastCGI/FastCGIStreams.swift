import CFastCGI

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

final class FastCGIOutput: OutputSink {
    private let stream: UnsafeMutablePointer<FCGX_Stream>

    init(stream: UnsafeMutablePointer<FCGX_Stream>) { self.stream = stream }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = min(bytes.count - done, Int(Int32.max))
            let p = bytes.baseAddress!.advanced(by: done).assumingMemoryBound(to: CChar.self)
            // -1 means nginx closed the connection: stop all work for this request.
            guard FCGX_PutStr(p, Int32(n), stream) == Int32(n) else { throw StreamError.clientGone }
            done += n
        }
    }
}
