import FastCGI

/// The request body as the object's bytes: aws-chunked framing removed, length checked.
struct BodyStream {
    let stream: any ByteStream
    private let decoder: AWSChunkedDecoder?
    /// The length the client announced for the decoded body, if any.
    let expectedLength: UInt64?

    init(stream: any ByteStream, decoder: AWSChunkedDecoder?, expectedLength: UInt64?) {
        self.stream = stream
        self.decoder = decoder
        self.expectedLength = expectedLength
    }

    var trailers: [String: String] { decoder?.trailers ?? [:] }

    /// After the last read: the body must be exactly as long as announced.
    func finish(length: UInt64) throws(S3Error) {
        if let expectedLength, expectedLength != length { throw S3Error.incompleteBody }
    }
}

extension S3Service {
    func bodyStream(_ request: S3Request, _ auth: Authentication) throws(S3Error) -> BodyStream {
        let headers = request.headers
        let chunked = auth.payload.isChunked || (headers["content-encoding"]?.contains("aws-chunked") ?? false)
        guard chunked else {
            return BodyStream(stream: request.http.body, decoder: nil,
                              expectedLength: headers["content-length"].flatMap { UInt64($0) })
        }
        guard let decodedLength = headers["x-amz-decoded-content-length"].flatMap({ UInt64($0) }) else {
            throw S3Error.missingContentLength
        }
        var signer: AWSChunkedDecoder.Signer?
        if case .streamingSigned = auth.payload {
            signer = .init(key: auth.signingKey, scope: auth.scope, amzDate: auth.amzDate, previous: auth.seedSignature)
        }
        let decoder = AWSChunkedDecoder(source: request.http.body, signer: signer)
        return BodyStream(stream: decoder, decoder: decoder, expectedLength: decodedLength)
    }
}
