import XCTest
import FastCGI
@testable import S3

/// The worked examples of AWS's "Signature Calculations for the Authorization Header" and
/// "Signature Calculations for the chunked upload" pages (examplebucket, 2013-05-24).
final class SigV4Tests: XCTestCase {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let scope = SigV4.Scope(date: "20130524", region: "us-east-1", service: "s3")

    func testGetObjectExample() throws {
        let headers = Headers([("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                               ("x-amz-content-sha256", SigV4.emptySHA256), ("x-amz-date", "20130524T000000Z")])
        let canonical = SigV4.canonicalRequest(
            method: "GET", rawPath: "/test.txt", query: try QueryItems(raw: ""), headers: headers,
            signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"], payloadHash: SigV4.emptySHA256)!
        let toSign = SigV4.stringToSign(amzDate: "20130524T000000Z", scope: Self.scope, canonicalRequest: canonical)
        XCTAssertTrue(toSign.hasSuffix("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        let key = SigV4.signingKey(secret: Self.secret, scope: Self.scope)
        XCTAssertEqual(SigV4.signature(key: key, toSign), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testListObjectsExampleSortsQuery() throws {
        let headers = Headers([("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", SigV4.emptySHA256),
                               ("x-amz-date", "20130524T000000Z")])
        let canonical = SigV4.canonicalRequest(
            method: "GET", rawPath: "/", query: try QueryItems(raw: "prefix=J&max-keys=2"), headers: headers,
            signedHeaders: ["host", "x-amz-content-sha256", "x-amz-date"], payloadHash: SigV4.emptySHA256)!
        XCTAssertEqual(canonical.split(separator: "\n", omittingEmptySubsequences: false)[2], "max-keys=2&prefix=J")
        let toSign = SigV4.stringToSign(amzDate: "20130524T000000Z", scope: Self.scope, canonicalRequest: canonical)
        XCTAssertEqual(SigV4.signature(key: SigV4.signingKey(secret: Self.secret, scope: Self.scope), toSign),
                       "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    func testPathIsReEncodedFromItsDecodedForm() throws {
        let headers = Headers([("Host", "h")])
        let q = try QueryItems(raw: "")
        let a = SigV4.canonicalRequest(method: "GET", rawPath: "/b/a%20b%2Bc", query: q, headers: headers,
                                       signedHeaders: ["host"], payloadHash: "UNSIGNED-PAYLOAD")!
        let b = SigV4.canonicalRequest(method: "GET", rawPath: "/b/a%20b+c", query: q, headers: headers,
                                       signedHeaders: ["host"], payloadHash: "UNSIGNED-PAYLOAD")!
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.contains("/b/a%20b%2Bc\n"))
        XCTAssertNil(SigV4.canonicalRequest(method: "GET", rawPath: "/b/%zz", query: q, headers: headers,
                                            signedHeaders: ["host"], payloadHash: "UNSIGNED-PAYLOAD"))
    }

    /// 65 KiB of 'a' in two chunks plus the final empty chunk, signed as in AWS's example.
    func testStreamingChunksVerifyAndDecode() throws {
        let body = chunkedExampleBody()
        let decoder = AWSChunkedDecoder(source: BytesStream(body), signer: exampleSigner())
        let decoded = try readAll(decoder)
        XCTAssertEqual(decoded, [UInt8](repeating: UInt8(ascii: "a"), count: 66560))
    }

    func testStreamingRejectsTamperedChunk() throws {
        var body = chunkedExampleBody()
        let index = body.count - 200  // inside the second chunk's data
        body[index] = UInt8(ascii: "b")
        let decoder = AWSChunkedDecoder(source: BytesStream(body), signer: exampleSigner())
        XCTAssertThrowsError(try readAll(decoder)) { XCTAssertEqual($0 as? S3Error, .signatureMismatch) }
    }

    func testUnsignedTrailerFramingIsRemoved() throws {
        let text = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
        let decoder = AWSChunkedDecoder(source: BytesStream(Array(text.utf8)))
        XCTAssertEqual(String(decoding: try readAll(decoder), as: UTF8.self), "hello world")
        XCTAssertEqual(decoder.trailers["x-amz-checksum-crc32"], "DUoRhQ==")
    }

    func testTruncatedChunkedBodyFails() {
        let decoder = AWSChunkedDecoder(source: BytesStream(Array("a\r\nhello".utf8)))
        XCTAssertThrowsError(try readAll(decoder))
    }

    private func exampleSigner() -> AWSChunkedDecoder.Signer {
        AWSChunkedDecoder.Signer(key: SigV4.signingKey(secret: Self.secret, scope: Self.scope), scope: Self.scope,
                                 amzDate: "20130524T000000Z",
                                 previous: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
    }

    private func chunkedExampleBody() -> [UInt8] {
        let a = UInt8(ascii: "a")
        var body = Array("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".utf8)
        body += [UInt8](repeating: a, count: 65536) + Array("\r\n".utf8)
        body += Array("400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n".utf8)
        body += [UInt8](repeating: a, count: 1024) + Array("\r\n".utf8)
        body += Array("0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n".utf8)
        return body
    }

    private func readAll(_ stream: any ByteStream) throws -> [UInt8] {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1000)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }
}
