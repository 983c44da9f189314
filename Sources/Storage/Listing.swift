import Glibc

public struct ListRequest: Sendable {
    public var prefix: String
    public var delimiter: String?
    /// List keys strictly after this one (marker, start-after, continuation token).
    public var after: String?
    public var maxKeys: Int

    public init(prefix: String = "", delimiter: String? = nil, after: String? = nil, maxKeys: Int = 1000) {
        self.prefix = prefix
        self.delimiter = delimiter?.isEmpty == true ? nil : delimiter
        self.after = after
        self.maxKeys = maxKeys
    }
}

public struct ObjectSummary: Sendable {
    public let key: String
    public let size: UInt64
    public let etag: String
    public let modified: Int64
}

public struct ListResult: Sendable {
    public var objects: [ObjectSummary] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    /// The last key or common prefix returned: where the next page starts.
    public var last: String?
}

extension Store {
    /// Lists keys in S3's order (binary UTF-8 of whole keys). The walk visits directories in
    /// that order too: a directory for part `p` sorts as `p/`, so `a-b` comes before `a/b`.
    /// It descends only into directories that can hold keys under the prefix and after the
    /// marker, so a page costs what its keys and their directories cost, not the bucket.
    public func list(bucket name: String, _ request: ListRequest) throws -> ListResult {
        let bucket = try bucketDirectory(name)
        var walker = ListWalker(request: request)
        if request.maxKeys > 0 { _ = try walker.walk(bucket, path: []) }
        return walker.result
    }
}

private struct ListWalker {
    let prefix: [UInt8]
    let delimiter: [UInt8]?
    let after: [UInt8]?
    let maxKeys: Int
    var result = ListResult()
    private var count = 0
    private var lastPrefix: [UInt8]?

    init(request: ListRequest) {
        prefix = Array(request.prefix.utf8)
        delimiter = request.delimiter.map { Array($0.utf8) }
        after = request.after.map { Array($0.utf8) }
        maxKeys = request.maxKeys
    }

    private struct Entry {
        let name: String
        let isDirectory: Bool
        /// Key bytes of this entry: `dir/part` for a file, `dir/part/` for a directory.
        let key: [UInt8]
    }

    /// Returns false once the page is full.
    mutating func walk(_ dir: FileDescriptor, path: [UInt8]) throws -> Bool {
        for entry in try entries(of: dir, path: path) {
            if entry.isDirectory {
                guard overlapsPrefix(entry.key), !(after.map { subtreeIsBefore(entry.key, $0) } ?? false) else { continue }
                guard let child = try? FileDescriptor.open(beneath: dir, entry.name, flags: O_RDONLY | O_DIRECTORY) else {
                    continue  // removed meanwhile
                }
                if let common = commonPrefix(entry.key) {
                    // Every key below shares this prefix: report it without walking the subtree.
                    guard try Self.holdsObject(child) else { continue }
                    if !(try emitPrefix(common)) { return false }
                    continue
                }
                if !(try walk(child, path: entry.key)) { return false }
            } else {
                guard entry.key.starts(with: prefix), after.map({ entry.key.lexicographicallyPrecedes($0) == false && entry.key != $0 }) ?? true
                else { continue }
                if let common = commonPrefix(entry.key) {
                    if !(try emitPrefix(common)) { return false }
                    continue
                }
                guard let file = try? FileDescriptor.open(beneath: dir, entry.name, flags: O_RDONLY),
                      let meta = try? MetadataCodec.load(from: file) else { continue }
                if count == maxKeys {
                    result.isTruncated = true
                    return false
                }
                let key = String(decoding: entry.key, as: UTF8.self)
                result.objects.append(ObjectSummary(key: key, size: meta.size, etag: meta.etag, modified: meta.modified))
                result.last = key
                count += 1
            }
        }
        return true
    }

    private mutating func emitPrefix(_ common: [UInt8]) throws -> Bool {
        if common == lastPrefix { return true }
        // A prefix at or before the marker was returned on an earlier page.
        if let after, !after.lexicographicallyPrecedes(common) { return true }
        if count == maxKeys {
            result.isTruncated = true
            return false
        }
        lastPrefix = common
        let text = String(decoding: common, as: UTF8.self)
        result.commonPrefixes.append(text)
        result.last = text
        count += 1
        return true
    }

    /// The common prefix `key` rolls up into: up to and including the first delimiter after the prefix.
    private func commonPrefix(_ key: [UInt8]) -> [UInt8]? {
        guard let delimiter, key.starts(with: prefix) else { return nil }
        let rest = key[prefix.count...]
        guard let range = rest.firstRange(of: delimiter) else { return nil }
        return Array(key[..<range.upperBound])
    }

    private func overlapsPrefix(_ directoryKey: [UInt8]) -> Bool {
        directoryKey.starts(with: prefix) || prefix.starts(with: directoryKey)
    }

    /// True when every key starting with `directoryKey` sorts at or before `marker`.
    private func subtreeIsBefore(_ directoryKey: [UInt8], _ marker: [UInt8]) -> Bool {
        directoryKey.lexicographicallyPrecedes(marker) && !marker.starts(with: directoryKey)
    }

    /// The directory's entries in key order, leaving out early those that cannot match the prefix.
    private func entries(of dir: FileDescriptor, path: [UInt8]) throws -> [Entry] {
        var out: [Entry] = []
        for name in try dir.entryNames(prefix: requiredNamePrefix(path)) {
            let part: String
            let isDirectory: Bool
            if let decoded = KeyMapping.decode(name) {
                (part, isDirectory) = decoded
            } else if KeyMapping.isHashed(name), let full = Self.longName(name, in: dir) {
                (part, isDirectory) = (full, KeyMapping.isDirectory(name))
            } else {
                continue  // not produced by the mapping
            }
            var key = path + Array(part.utf8)
            if isDirectory { key.append(UInt8(ascii: "/")) }
            out.append(Entry(name: name, isDirectory: isDirectory, key: key))
        }
        return out.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// Bytes every on-disk name in the directory at `path` must start with to hold keys under the
    /// prefix: the prefix's next part, when the mapping stores it verbatim (no `%`, NUL, `.`, `..`).
    /// In a flat folder of a million keys this spares decoding and sorting all but the matches.
    private func requiredNamePrefix(_ path: [UInt8]) -> [UInt8]? {
        guard prefix.count > path.count, prefix.starts(with: path) else { return nil }
        let head = Array(prefix[path.count...].prefix(while: { $0 != UInt8(ascii: "/") }))
        let dot = UInt8(ascii: ".")
        // (A shortened name keeps only its first ≈ 200 bytes verbatim.)
        guard !head.isEmpty, head.count <= 160, head != [dot], head != [dot, dot],
              !head.contains(UInt8(ascii: "%")), !head.contains(0) else { return nil }
        return head
    }

    private static func longName(_ name: String, in dir: FileDescriptor) -> String? {
        guard let entry = try? FileDescriptor.open(beneath: dir, name, flags: O_RDONLY) else { return nil }
        if KeyMapping.isDirectory(name) {
            return entry.getXattr(KeyMapping.longNameAttribute).map { String(decoding: $0, as: UTF8.self) }
        }
        return (try? MetadataCodec.load(from: entry))?.name
    }

    /// True when the subtree holds at least one object (directories can outlive their last
    /// object briefly, or after a crash).
    static func holdsObject(_ dir: FileDescriptor) throws -> Bool {
        for name in try dir.entryNames() {
            if KeyMapping.isDirectory(name) {
                if let child = try? FileDescriptor.open(beneath: dir, name, flags: O_RDONLY | O_DIRECTORY),
                   try holdsObject(child) { return true }
            } else {
                return true
            }
        }
        return false
    }
}
