import Foundation
import XCTest
@testable import Storage

final class MetadataJSONTests: XCTestCase {
    private func sample() -> ObjectMetadata {
        var meta = ObjectMetadata(size: 1 << 40, etag: "0123456789abcdef0123456789abcdef-3", modified: 1_796_402_670_674)
        meta.system = ["content-type": "text/plain; charset=\"utf-8\"", "cache-control": "no-cache"]
        meta.user = ["quote\"back\\slash": "tab\tnew\nline\u{01}", "émoji": "😀/日本", "empty": ""]
        meta.checksums = ["crc32": "7W96eg=="]
        meta.tags = ["a": "1"]
        meta.sse = SSECInfo(keyMD5: "8VuBD9jWIK9pW8a3dz11UA==", iv: "2Y9vAfWzR2XbJUFKE8SpSQ==")
        meta.parts = [PartInfo(number: 1, size: 5 << 20, etag: "aa", iv: "iv1"), PartInfo(number: 2, size: 7, etag: "bb", iv: nil)]
        meta.name = String(repeating: "long/", count: 3)
        return meta
    }

    func testRoundTrip() {
        let meta = sample()
        XCTAssertEqual(ObjectMetadata(json: meta.json), meta)
        let minimal = ObjectMetadata(size: 0, etag: "d41d8cd98f00b204e9800998ecf8427e", modified: 0)
        XCTAssertEqual(ObjectMetadata(json: minimal.json), minimal)
    }

    func testOutputIsStandardJSON() throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(sample().json)) as? [String: Any]
        XCTAssertEqual(parsed?["etag"] as? String, "0123456789abcdef0123456789abcdef-3")
        XCTAssertEqual((parsed?["user"] as? [String: String])?["quote\"back\\slash"], "tab\tnew\nline\u{01}")
        XCTAssertTrue(sample().json.starts(with: Array("{\"checksums\"".utf8)), "keys stay sorted")
    }

    /// Metadata written by Foundation's JSONEncoder (escaped slashes, \u escapes) still reads.
    func testReadsFoundationOutput() {
        let text = #"{"checksums":{},"etag":"e","modified":5,"size":3,"system":{"content-type":"binary\/octet-stream"},"tags":{},"user":{"k":"\u00e9\ud83d\ude00"},"v":1}"#
        let meta = ObjectMetadata(json: Array(text.utf8))
        XCTAssertEqual(meta?.system["content-type"], "binary/octet-stream")
        XCTAssertEqual(meta?.user["k"], "é😀")
    }

    func testRejectsMalformed() {
        for bad in ["", "{", #"{"size":1}"#, #"{"size":"x","etag":"e","modified":1}"#, #"{"etag":"e\"#,
                    #"{"size":1,"etag":"e","modified":1} trailing"#] {
            XCTAssertNil(ObjectMetadata(json: Array(bad.utf8)), bad)
        }
    }
}
