import Crypto
import FastCGI
import Storage

/// The write path shared by PutObject, CopyObject and UploadPart: bytes flow from a source
/// through digests and, for SSE-C, AES-256-CTR into an ObjectWriter, one buffer at a time.
struct Ingest {
    var customerKey: CustomerKey?
    var checksum: Checksum.Expectation?
    /// The hex SHA-256 the client signed (x-amz-content-sha256), checked at the end.
    var payloadSHA256: String?
    /// Content-MD5 (raw), checked against the plaintext.
    var contentMD5: [UInt8]?

    struct Result {
        let size: UInt64
        /// Quoted-less ETag: MD5 of the plaintext, or for SSE-C the MD5 of IV ‖ ciphertext (the
        /// MD5 of the plaintext would let anyone who may list confirm a guess of the content;
        /// the random IV keeps even an empty object's ETag from being the well-known empty MD5).
        let etag: String
        let iv: [UInt8]?
        let checksums: [String: String]
    }

    func run(from source: any ByteStream, into writer: any DataWriter, body: BodyStream?) throws -> Result {
        let plainMD5 = Digest(.md5)
        let cipherMD5 = customerKey == nil ? nil : Digest(.md5)
        let sha256 = payloadSHA256 == nil ? nil : Digest(.sha256)
        let sum = checksum.map { Checksum($0.algorithm) }
        let iv = customerKey == nil ? nil : Random.bytes(AESCTR.ivSize)
        let cipher = customerKey.map { AESCTR(key: $0.key, iv: iv!) }
        if let iv { cipherMD5?.update(iv) }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: S3Service.bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        while true {
            let n = try source.readFully(into: buffer)
            if n == 0 { break }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            let plain = UnsafeRawBufferPointer(chunk)
            plainMD5.update(plain)
            sha256?.update(plain)
            sum?.update(plain)
            if let cipher {
                cipher.apply(chunk)
                cipherMD5!.update(plain)
            }
            try writer.write(plain)
            total += UInt64(n)
        }
        try body?.finish(length: total)

        if let payloadSHA256, sha256!.finish().hex != payloadSHA256 { throw S3Error.contentSHA256Mismatch }
        let plainDigest = plainMD5.finish()
        if let contentMD5, !constantTimeEquals(contentMD5, plainDigest) { throw S3Error.badDigest }
        var checksums: [String: String] = [:]
        if let checksum, let sum {
            let computed = sum.finish()
            let header = checksum.algorithm.header
            let claimed = checksum.value ?? body?.trailers[header]
            if checksum.inTrailer && claimed == nil {
                throw S3Error(400, "MalformedTrailerError", "The request contained trailing data that was not well-formed.")
            }
            if let claimed, claimed != computed {
                throw S3Error(400, "BadDigest", "The \(checksum.algorithm.rawValue.uppercased()) you specified did not match the calculated checksum.")
            }
            checksums[checksum.algorithm.rawValue] = computed
        }
        return Result(size: total, etag: (cipherMD5?.finish() ?? plainDigest).hex, iv: iv, checksums: checksums)
    }
}

extension Ingest {
    /// The expectations a PUT-like request carries in its headers.
    init(_ request: S3Request, _ auth: Authentication, customerKey: CustomerKey?) throws(S3Error) {
        self.customerKey = customerKey
        checksum = try Checksum.expectation(request.headers)
        if case .sha256(let hash) = auth.payload { payloadSHA256 = hash }
        contentMD5 = try request.headers["content-md5"].map { (text) throws(S3Error) in
            guard let md5 = Base64.decode(text), md5.count == 16 else { throw S3Error.invalidDigest }
            return md5
        }
    }
}
