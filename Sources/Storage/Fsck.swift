import Foundation
import Glibc

/// What `liteio fsck` found (and, with repair, fixed) in a data directory.
public struct FsckReport: Sendable {
    public var objects = 0
    public var directories = 0
    public var staleTemporaryFiles: [String] = []
    public var unreadableMetadata: [String] = []
    public var emptyDirectories: [String] = []
    public var abandonedUploads: [String] = []
    public var repaired = 0

    public var problems: Int {
        staleTemporaryFiles.count + unreadableMetadata.count + emptyDirectories.count + abandonedUploads.count
    }
}

extension Store {
    /// Walks every bucket. Objects whose metadata cannot be read are moved to
    /// `system/lost+found/` on repair (never deleted: their bytes may still matter to someone).
    public func fsck(repair: Bool, uploadAge: TimeInterval, progress: (Int) -> Void) throws -> FsckReport {
        var report = FsckReport()
        let cutoff = Date().addingTimeInterval(-15 * 60).timeIntervalSince1970
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmpPath)) ?? [] {
            var st = stat()
            if lstat(tmpPath + "/" + name, &st) == 0, Double(st.st_mtim.tv_sec) < cutoff {
                report.staleTemporaryFiles.append("system/tmp/" + name)
            }
        }
        if repair { report.repaired += cleanTemporaryFiles() }

        let lostAndFound = root + "/system/lost+found"
        for bucket in try listBuckets() {
            try walk(bucketsPath + "/" + bucket.name, relative: "buckets/" + bucket.name, isBucket: true,
                     report: &report, repair: repair, lostAndFound: lostAndFound, progress: progress)
        }

        let cutoffMillis = Store.nowMillis() - Int64(uploadAge * 1000)
        for bucket in (try? FileManager.default.contentsOfDirectory(atPath: uploadsPath)) ?? [] {
            for upload in (try? uploads(bucket: bucket)) ?? [] where upload.initiated < cutoffMillis {
                report.abandonedUploads.append("\(bucket)/\(upload.key) (upload \(upload.id))")
                if repair, (try? abortUpload(bucket: bucket, id: upload.id)) != nil { report.repaired += 1 }
            }
        }
        return report
    }

    /// Returns true when the directory is empty after the walk.
    @discardableResult
    private func walk(_ path: String, relative: String, isBucket: Bool, report: inout FsckReport, repair: Bool,
                      lostAndFound: String, progress: (Int) -> Void) throws -> Bool {
        let dir = try FileDescriptor.open(path, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        var remaining = 0
        for name in try dir.entryNames() {
            var st = stat()
            guard fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let childPath = path + "/" + name
            if st.st_mode & S_IFMT == S_IFDIR {
                report.directories += 1
                let empty = try walk(childPath, relative: relative + "/" + name, isBucket: false, report: &report,
                                     repair: repair, lostAndFound: lostAndFound, progress: progress)
                if empty {
                    report.emptyDirectories.append(relative + "/" + name)
                    if repair && unlinkat(dir.fd, name, AT_REMOVEDIR) == 0 { report.repaired += 1; continue }
                }
                remaining += 1
                continue
            }
            remaining += 1
            report.objects += 1
            if report.objects % 10_000 == 0 { progress(report.objects) }
            let readable = (try? FileDescriptor.open(beneath: dir, name, flags: O_RDONLY))
                .flatMap { try? MetadataCodec.load(from: $0) } != nil
            if !readable && st.st_mode & S_IFMT == S_IFREG || st.st_mode & S_IFMT == S_IFLNK {
                report.unreadableMetadata.append(relative + "/" + name)
                if repair {
                    try? FileManager.default.createDirectory(atPath: lostAndFound, withIntermediateDirectories: true)
                    let target = lostAndFound + "/" + Store.temporaryName() + "-" + name
                    if rename(childPath, target) == 0 { report.repaired += 1; remaining -= 1 }
                }
            }
        }
        return remaining == 0 && !isBucket
    }
}
