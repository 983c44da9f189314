import Foundation
import XCTest
@testable import Storage

/// A store on a real temporary directory (real xattrs, real renames), removed afterwards.
class StoreTestCase: XCTestCase {
    var root = ""
    var store: Store!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "liteio-test-" + UUID().uuidString
        // fsync off: these tests check logic, not durability, and 2,000 fsyncs take half a minute.
        store = try Store(root: root, durable: false)
        try store.createBucket("bucket", owner: "owner")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func put(_ key: String, _ text: String = "x", bucket: String = "bucket") throws {
        let writer = try store.beginPut(bucket: bucket, key: key)
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { try writer.write($0) }
        try writer.commit(ObjectMetadata(size: UInt64(bytes.count), etag: "e", modified: 1))
    }

    func get(_ key: String, bucket: String = "bucket") throws -> String {
        let reader = try store.openObject(bucket: bucket, key: key)
        var buffer = [UInt8](repeating: 0, count: Int(reader.metadata.size))
        let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0, at: 0) }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
