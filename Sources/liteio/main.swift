import Foundation

let usage = """
    usage: liteio [--config FILE] COMMAND

    commands:
      serve                     serve S3 over FastCGI (behind nginx)
      user add [NAME]           create a user and print its keys
      user list                 list users
      user remove ACCESS_KEY    delete a user
      config check              validate the configuration
      fsck [--repair]           check the data directory: stale temporary files, unreadable
                                metadata, empty directories, abandoned uploads
      config show               print the embedded default configuration

    Without --config, the embedded defaults apply (data in .liteio/data,
    socket .liteio/run/liteio.sock, credentials .liteio/credentials.json).
    """

var args = Array(CommandLine.arguments.dropFirst())
var configPath: String?
if let i = args.firstIndex(of: "--config"), i + 1 < args.count {
    configPath = args[i + 1]
    args.removeSubrange(i...i + 1)
}

do {
    switch args.first {
    case "serve":
        try Serve.run(configPath: configPath, child: args.contains("--child"))
    case "user":
        try Users.run(Array(args.dropFirst()), configPath: configPath)
    case "fsck":
        try Fsck.run(Array(args.dropFirst()), configPath: configPath)
    case "config" where args.dropFirst().first == "check":
        let config = try Config.load(path: configPath)
        let problems = config.problems()
        problems.forEach { print($0) }
        if problems.contains(where: { !$0.hasPrefix("warning") }) { exit(1) }
        print("configuration ok")
    case "config" where args.dropFirst().first == "show":
        print(Config.embeddedDefault)
    case "--help", "-h", "help", nil:
        print(usage)
    default:
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("liteio: \(error)\n".utf8))
    exit(1)
}
