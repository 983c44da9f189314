// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "liteio",
    targets: [
        // C libraries, imported as they are.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl"),
        // A few glibc calls Swift cannot see without _GNU_SOURCE (xattrs on fds, openat2, renameat2).
        .target(name: "CSystem"),

        // Layers, each knowing only the one below it.
        .target(name: "Crypto", dependencies: ["COpenSSL", "CSystem"]),
        .target(name: "FastCGI", dependencies: ["CFastCGI"]),
        .target(name: "Storage", dependencies: ["CSystem", "Crypto"]),
        .target(name: "S3", dependencies: ["Storage", "Crypto", "FastCGI", "CSystem"]),
        .executableTarget(name: "liteio", dependencies: ["S3", "FastCGI", "Storage"]),

        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "S3Tests", dependencies: ["S3"]),
    ],
    swiftLanguageModes: [.v6]
)
