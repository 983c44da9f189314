import Foundation
import XCTest
@testable import Storage

/// Many threads writing, overwriting and deleting in the same directories: every write is whole,
/// a DELETE that empties a directory never breaks a PUT into it, one winner per key.
final class ConcurrencyTests: StoreTestCase {
    func testPutsAndDeletesInOneDirectory() throws {
        let store = self.store!
        let failures = Locked<[String]>([])
        let survivors = Locked<[String: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<150 {
                let key = "shared/dir/t\(thread)-\(round % 5)"
                let body = String(repeating: "\(thread):\(round);", count: 50)
                do {
                    let writer = try store.beginPut(bucket: "bucket", key: key)
                    try Array(body.utf8).withUnsafeBytes { try writer.write($0) }
                    try writer.commit(ObjectMetadata(size: UInt64(body.utf8.count), etag: "e", modified: 1))
                    if round % 3 == 0 {
                        try store.deleteObject(bucket: "bucket", key: key)
                        survivors.with { $0[key] = nil }
                    } else {
                        survivors.with { $0[key] = body }
                    }
                } catch {
                    failures.with { $0.append("\(key): \(error)") }
                }
            }
        }
        XCTAssertEqual(failures.value, [])
        for (key, body) in survivors.value { XCTAssertEqual(try get(key), body, key) }
        let listed = try store.list(bucket: "bucket", ListRequest()).objects.map(\.key)
        XCTAssertEqual(Set(listed), Set(survivors.value.keys))
    }

    func testConcurrentWritersOfOneKeyLeaveOneWholeWinner() throws {
        let store = self.store!
        let bodies = (0..<8).map { String(repeating: "writer\($0)|", count: 20_000) }
        DispatchQueue.concurrentPerform(iterations: 8) { n in
            let writer = try! store.beginPut(bucket: "bucket", key: "contended")
            try! Array(bodies[n].utf8).withUnsafeBytes { try writer.write($0) }
            try! writer.commit(ObjectMetadata(size: UInt64(bodies[n].utf8.count), etag: "e", modified: 1))
        }
        XCTAssertTrue(bodies.contains(try get("contended")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/system/tmp"), [],
                       "no temporary names are left behind")
    }
}

/// A value shared between test threads.
final class Locked<T>: @unchecked Sendable {
    private var stored: T
    private let lock = NSLock()
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func with(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
}
