import XCTest
@testable import Storage

/// Listing against an in-memory sorted model: S3's order is the binary order of UTF-8 keys.
final class ListingTests: StoreTestCase {
    private func sorted(_ keys: some Sequence<String>) -> [String] {
        keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    func testDashSortsBeforeSlash() throws {
        for key in ["a/b", "a-b", "a", "a0", "a/", "b"] { try put(key) }
        XCTAssertEqual(try store.list(bucket: "bucket", ListRequest()).objects.map(\.key), ["a", "a-b", "a/", "a/b", "a0", "b"])
    }

    func testPrefixesOfLongAndEscapedPartsStillMatch() throws {
        let long = String(repeating: "x", count: 300)
        let keys = [long, long + "/child", "dir/" + long, "a%b", ".hidden", ".", "..", "plain"]
        for key in keys { try put(key) }
        for prefix in [String(long.prefix(100)), String(long.prefix(250)), "dir/" + String(long.prefix(150)), "a%", ".", ".h", "pl"] {
            let got = try store.list(bucket: "bucket", ListRequest(prefix: prefix)).objects.map(\.key)
            XCTAssertEqual(got, sorted(keys.filter { $0.hasPrefix(prefix) }), prefix)
        }
    }

    func testRandomKeysMatchModel() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "b", "/", "-", ".", "..", "é", "%", " ", "z", "0", "😀", String(repeating: "L", count: 130)]
        var keys = Set<String>()
        while keys.count < 2000 {
            let length = Int.random(in: 1...8, using: &generator)
            let key = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined()
            if key.utf8.count <= 1024 { keys.insert(key) }
        }
        for key in keys { try put(key, key) }
        let model = sorted(keys)

        // Whole listing in pages of random sizes.
        for _ in 0..<5 {
            let pageSize = Int.random(in: 25...300, using: &generator)
            XCTAssertEqual(try pageAll(ListRequest(maxKeys: pageSize)).keys, model)
        }
        // Random prefixes and delimiters against the model.
        for _ in 0..<40 {
            let prefix = String(model.randomElement(using: &generator)!.prefix(Int.random(in: 0...3, using: &generator)))
            let delimiter = ["/", "-", "a", "é", nil].randomElement(using: &generator)!
            let page = Int.random(in: 3...200, using: &generator)
            let got = try pageAll(ListRequest(prefix: prefix, delimiter: delimiter, maxKeys: page))
            let expected = expectedListing(model, prefix: prefix, delimiter: delimiter)
            XCTAssertEqual(got.keys, expected.keys, "prefix \(prefix) delimiter \(delimiter ?? "nil") page \(page)")
            XCTAssertEqual(got.prefixes, expected.prefixes, "prefix \(prefix) delimiter \(delimiter ?? "nil") page \(page)")
        }
        // start-after from arbitrary (also absent) keys.
        for _ in 0..<20 {
            let after = model.randomElement(using: &generator)! + (Bool.random() ? "-" : "")
            let got = try store.list(bucket: "bucket", ListRequest(after: after, maxKeys: 50)).objects.map(\.key)
            XCTAssertEqual(got, Array(model.filter { Array($0.utf8).lexicographicallyPrecedes(Array(after.utf8)) == false && $0 != after }.prefix(50)))
        }
    }

    private func pageAll(_ request: ListRequest) throws -> (keys: [String], prefixes: [String]) {
        var request = request
        var keys: [String] = []
        var prefixes: [String] = []
        while true {
            let page = try store.list(bucket: "bucket", request)
            XCTAssertLessThanOrEqual(page.objects.count + page.commonPrefixes.count, request.maxKeys)
            keys += page.objects.map(\.key)
            prefixes += page.commonPrefixes
            guard page.isTruncated else { return (keys, prefixes) }
            request.after = page.last
        }
    }

    private func expectedListing(_ model: [String], prefix: String, delimiter: String?) -> (keys: [String], prefixes: [String]) {
        var keys: [String] = []
        var prefixes: [String] = []
        for key in model where key.utf8.starts(with: prefix.utf8) {
            let rest = Array(key.utf8.dropFirst(prefix.utf8.count))
            if let delimiter, let range = rest.firstRange(of: Array(delimiter.utf8)) {
                let common = String(decoding: Array(prefix.utf8) + rest[..<range.upperBound], as: UTF8.self)
                if prefixes.last != common { prefixes.append(common) }
            } else {
                keys.append(key)
            }
        }
        return (keys, prefixes)
    }
}
