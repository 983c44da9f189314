import XCTest
@testable import Storage

final class KeyMappingTests: StoreTestCase {
    func testNamesNeverEscapeOrCollide() {
        let parts = ["", ".", "..", "%", "%25", "a%", "%%", "a\0b", "normal", "with space", "ünï", "x%h1"]
        var seen: [String: String] = [:]
        for part in parts {
            for dir in [false, true] {
                let entry = KeyMapping.entry(for: part, directory: dir)
                XCTAssertFalse(entry.name.contains("/"))
                XCTAssertFalse(entry.name == "." || entry.name == ".." || entry.name.isEmpty)
                XCTAssertFalse(entry.name.utf8.contains(0))
                let id = "\(part)|\(dir)"
                XCTAssertNil(seen[entry.name], "\(id) collides with \(seen[entry.name] ?? "")")
                seen[entry.name] = id
                let decoded = KeyMapping.decode(entry.name)
                XCTAssertEqual(decoded?.part, part)
                XCTAssertEqual(decoded?.isDirectory, dir)
            }
        }
    }

    func testLongPartsAreShortenedAndStillRoundTrip() throws {
        let long = String(repeating: "ä", count: 150)  // 300 bytes: over NAME_MAX
        let entry = KeyMapping.entry(for: long, directory: false)
        XCTAssertTrue(entry.isHashed)
        XCTAssertLessThanOrEqual(entry.name.utf8.count, 255)
        for key in [long, long + "/x", "d/" + long + "/" + long + "x", String(repeating: "z", count: 1024)] {
            try put(key, key)
            XCTAssertEqual(try get(key), key)
        }
        let listed = try store.list(bucket: "bucket", ListRequest()).objects.map(\.key)
        XCTAssertEqual(listed, [long, long + "/x", "d/" + long + "/" + long + "x", String(repeating: "z", count: 1024)].sorted {
            Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
        })
    }

    func testKeyLimits() throws {
        XCTAssertThrowsError(try put(String(repeating: "k", count: 1025))) { XCTAssertEqual($0 as? StorageError, .keyTooLong) }
        XCTAssertThrowsError(try put("")) 
    }

    func testObjectAndPrefixCoexistAndDotsAreJustNames() throws {
        let keys = ["a", "a/b", "a/", "a//b", "/lead", ".", "..", "../x", "a/../../etc/passwd", "%2e%2e/y", "trail/"]
        for key in keys { try put(key, "v:" + key) }
        for key in keys { XCTAssertEqual(try get(key), "v:" + key) }
        // Nothing was written outside the bucket directory.
        let outside = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        XCTAssertEqual(outside, ["buckets", "system"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/buckets"), ["bucket"])
    }

    func testPlantedSymlinkIsNotFollowed() throws {
        try put("d/inner", "inside")
        let secret = root + "/secret"
        try "outside".write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/buckets/bucket/link", withDestinationPath: secret)
        try FileManager.default.createSymbolicLink(atPath: root + "/buckets/bucket/ldir%", withDestinationPath: root)
        XCTAssertThrowsError(try get("link")) { XCTAssertEqual($0 as? StorageError, .noSuchKey) }
        XCTAssertThrowsError(try get("ldir/secret")) { XCTAssertEqual($0 as? StorageError, .noSuchKey) }
        XCTAssertThrowsError(try put("ldir/new", "x"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/new"))
    }

    func testDeleteRemovesEmptiedDirectoriesOnly() throws {
        try put("p/q/r", "1")
        try put("p/s", "2")
        try store.deleteObject(bucket: "bucket", key: "p/q/r")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/buckets/bucket/p%/q%"))
        XCTAssertEqual(try get("p/s"), "2")
        try store.deleteObject(bucket: "bucket", key: "p/s")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/buckets/bucket"), [])
        try store.deleteObject(bucket: "bucket", key: "never/was")  // idempotent
    }

    func testLargeMetadataOverflowsIntoTheDataFile() throws {
        let writer = try store.beginPut(bucket: "bucket", key: "big-meta")
        try Array("data".utf8).withUnsafeBytes { try writer.write($0) }
        var meta = ObjectMetadata(size: 4, etag: "e", modified: 1)
        for i in 0..<200 { meta.user["key\(i)"] = String(repeating: "v", count: 40) }
        try writer.commit(meta)
        let reader = try store.openObject(bucket: "bucket", key: "big-meta")
        XCTAssertEqual(reader.metadata, meta)
        XCTAssertEqual(try get("big-meta"), "data")
    }

    func testBuckets() throws {
        XCTAssertThrowsError(try store.createBucket("bucket", owner: "owner")) {
            XCTAssertEqual($0 as? StorageError, .bucketExists(ownedBy: "owner"))
        }
        try put("k")
        XCTAssertThrowsError(try store.deleteBucket("bucket")) { XCTAssertEqual($0 as? StorageError, .bucketNotEmpty) }
        try store.deleteObject(bucket: "bucket", key: "k")
        try store.deleteBucket("bucket")
        XCTAssertThrowsError(try put("k")) { XCTAssertEqual($0 as? StorageError, .noSuchBucket) }
        for bad in ["ab", "Upper", "a_b", "-ab", "ab-", "a..b", "192.168.1.1", "xn--ab", String(repeating: "a", count: 64)] {
            XCTAssertFalse(BucketName.isValid(bad), bad)
        }
        for good in ["abc", "my-bucket", "a.b.c", "123", String(repeating: "a", count: 63)] {
            XCTAssertTrue(BucketName.isValid(good), good)
        }
    }
}
