import Foundation

public struct User: Codable, Equatable, Sendable {
    public var accessKey: String
    public var secretKey: String
    public var displayName: String

    public init(accessKey: String, secretKey: String, displayName: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.displayName = displayName
    }
}

/// The credentials file: `{"users": [{"accessKey", "secretKey", "displayName"}]}`.
public struct Credentials: Codable, Sendable {
    public var users: [User]

    public init(users: [User]) { self.users = users }

    public static func load(path: String) throws -> Credentials {
        try JSONDecoder().decode(Credentials.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let tmp = path + ".tmp"
        try encoder.encode(self).write(to: URL(fileURLWithPath: tmp))
        chmod(tmp, 0o600)  // secrets: owner only
        guard rename(tmp, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    public func user(accessKey: String) -> User? { users.first { $0.accessKey == accessKey } }
}
