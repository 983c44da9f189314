import Foundation
import Storage

/// `liteio fsck [--repair]`: checks a data directory and reports what it found.
enum Fsck {
    static func run(_ args: [String], configPath: String?) throws {
        let config = try Config.load(path: configPath)
        let repair = args.contains("--repair")
        let store = try Store(root: config.dataDir)
        let report = try store.fsck(repair: repair, uploadAge: config.abandonedUploadHours * 3600) { count in
            FileHandle.standardError.write(Data("fsck: \(count) objects checked…\n".utf8))
        }
        print("checked \(report.objects) objects in \(report.directories) directories")
        for (title, items) in [("stale temporary files", report.staleTemporaryFiles),
                               ("objects with unreadable metadata", report.unreadableMetadata),
                               ("empty directories", report.emptyDirectories),
                               ("abandoned multipart uploads", report.abandonedUploads)] where !items.isEmpty {
            print("\(title): \(items.count)")
            for item in items.prefix(50) { print("  \(item)") }
            if items.count > 50 { print("  … and \(items.count - 50) more") }
        }
        if repair { print("repaired \(report.repaired)") }
        if report.problems == 0 { print("no problems found") }
        if report.problems > 0 && !repair { exit(1) }
    }
}
