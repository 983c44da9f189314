import Crypto
import FastCGI

/// Removes aws-chunked framing (`hex-size[;chunk-signature=…]\r\n data \r\n … 0\r\n trailers \r\n`)
/// so that only the object's bytes flow on. With a signer, each chunk's signature is checked
/// when the chunk ends; the first bad one fails the read, and so the whole upload.
final class AWSChunkedDecoder: ByteStream {
    struct Signer {
        let key: [UInt8]
        let scope: SigV4.Scope
        let amzDate: String
        var previous: String
    }

    private enum State { case header, data, dataEnd, trailers, done }

    private let source: any ByteStream
    private var signer: Signer?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0
    private var state = State.header
    private var remaining = 0
    private var chunkSignature = ""
    private var chunkDigest: Digest?
    /// Trailer headers (`x-amz-checksum-crc32` …), known once the stream has ended.
    private(set) var trailers: [String: String] = [:]
    private(set) var decodedLength: UInt64 = 0

    init(source: any ByteStream, signer: Signer? = nil) {
        self.source = source
        self.signer = signer
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            switch state {
            case .done:
                return 0
            case .header:
                try readChunkHeader()
            case .data:
                if remaining == 0 {
                    state = .dataEnd
                    continue
                }
                if start == end { try fill() }
                let n = min(out.count, remaining, end - start)
                buffer.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) }
                chunkDigest?.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<n]))
                start += n
                remaining -= n
                decodedLength += UInt64(n)
                return n
            case .dataEnd:
                guard try readLine().isEmpty else { throw malformed }
                try finishChunk(empty: false)
                state = .header
            case .trailers:
                try readTrailers()
                state = .done
            }
        }
    }

    private func readChunkHeader() throws {
        let line = try readLine()
        let parts = line.split(separator: ";", maxSplits: 1)
        guard let sizeText = parts.first, let size = Int(sizeText.trimmingCharacters(), radix: 16), size >= 0 else {
            throw malformed
        }
        if signer != nil {
            guard parts.count == 2, parts[1].hasPrefix("chunk-signature=") else { throw S3Error.signatureMismatch }
            chunkSignature = String(parts[1].dropFirst("chunk-signature=".count))
            chunkDigest = Digest(.sha256)
        }
        if size == 0 {
            try finishChunk(empty: true)
            state = .trailers
        } else {
            remaining = size
            state = .data
        }
    }

    /// Checks the signature of the chunk just read: it chains from the previous signature.
    private func finishChunk(empty: Bool) throws {
        guard var signer, let digest = chunkDigest else { return }
        let dataHash = empty ? SigV4.emptySHA256 : digest.finish().hex
        let toSign = ["AWS4-HMAC-SHA256-PAYLOAD", signer.amzDate, signer.scope.text, signer.previous,
                      SigV4.emptySHA256, dataHash].joined(separator: "\n")
        let expected = SigV4.signature(key: signer.key, toSign)
        guard constantTimeEquals(expected, chunkSignature) else { throw S3Error.signatureMismatch }
        signer.previous = expected
        self.signer = signer
        chunkDigest = nil
    }

    private func readTrailers() throws {
        var signed = ""
        var trailerSignature: String?
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw malformed }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...].trimmingCharacters())
            if name == "x-amz-trailer-signature" {
                trailerSignature = value
            } else {
                trailers[name] = value
                signed += "\(name):\(value)\n"
            }
        }
        if let signer, let trailerSignature {
            let toSign = ["AWS4-HMAC-SHA256-TRAILER", signer.amzDate, signer.scope.text, signer.previous,
                          Digest.sha256Hex(signed)].joined(separator: "\n")
            let expected = SigV4.signature(key: signer.key, toSign)
            guard constantTimeEquals(expected, trailerSignature) else {
                throw S3Error.signatureMismatch
            }
        }
    }

    /// One CRLF-terminated line (a lone LF is tolerated); at most 4 KiB.
    private func readLine() throws -> Substring {
        var line = [UInt8]()
        while true {
            if start == end {
                // The stream may end right after the last chunk when there are no trailers.
                if state == .trailers && line.isEmpty, try !fillOrEOF() { return "" }
                if start == end { try fill() }
            }
            let byte = buffer[start]
            start += 1
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)[...]
            }
            line.append(byte)
            if line.count > 4096 { throw malformed }
        }
    }

    private func fill() throws {
        guard try fillOrEOF() else { throw S3Error.incompleteBody }
    }

    private func fillOrEOF() throws -> Bool {
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        start = 0
        end = n
        return n > 0
    }

    private var malformed: S3Error { S3Error(400, "IncompleteBody", "The aws-chunked body is malformed.") }
}
