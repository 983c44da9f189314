import Crypto
import Foundation
import S3

/// `liteio user add|list|remove`: edits the credentials file (atomically; send SIGHUP or
/// restart for a running server to see the change).
enum Users {
    static func run(_ args: [String], configPath: String?) throws {
        let config = try Config.load(path: configPath)
        let path = config.credentialsFile
        var credentials = (try? Credentials.load(path: path)) ?? Credentials(users: [])
        switch args.first {
        case "add":
            let name = args.count > 1 ? args[1] : "user"
            let user = User(accessKey: "LIO" + Random.hex(8).uppercased(), secretKey: Base64.encode(Random.bytes(30)),
                            displayName: name)
            credentials.users.append(user)
            try credentials.save(path: path)
            print("accessKey: \(user.accessKey)\nsecretKey: \(user.secretKey)\ndisplayName: \(user.displayName)")
        case "list":
            for user in credentials.users { print("\(user.accessKey)\t\(user.displayName)") }
        case "remove":
            guard args.count > 1 else { throw CLIError("usage: liteio user remove ACCESS_KEY") }
            let before = credentials.users.count
            credentials.users.removeAll { $0.accessKey == args[1] }
            guard credentials.users.count < before else { throw CLIError("no user \(args[1])") }
            try credentials.save(path: path)
            print("removed \(args[1])")
        default:
            throw CLIError("usage: liteio user add [NAME] | list | remove ACCESS_KEY")
        }
    }
}
