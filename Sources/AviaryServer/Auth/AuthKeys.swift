import Crypto
public import Foundation

/// The credentials `aviary serve --auth FILE` accepts: AWS-style access keys (for SigV4) and bearer tokens,
/// each naming the user who is recorded as the actor of what it does.
///
/// The file is JSON:
/// ```json
/// {"keys": [{"accessKeyId": "AKIDALICE", "secretAccessKey": "…", "user": "alice"}],
///  "tokens": [{"token": "…", "user": "ci-bot"}]}
/// ```
/// It is validated as a whole when the server starts, so that a typo stops the server rather than locking
/// everyone out later. No error message and no `description` ever contains a secret.
public struct AuthKeys: Sendable, Equatable, CustomStringConvertible {
    /// One access key: the secret signs requests, the id names the secret in `Credential=`.
    public struct AccessKey: Sendable, Equatable, Decodable {
        public var accessKeyId: String
        public var secretAccessKey: String
        public var user: String

        public init(accessKeyId: String, secretAccessKey: String, user: String) {
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.user = user
        }
    }

    /// One bearer token for Aviary's own API (`/v1`, `/metrics`), e.g. for a CI job or Prometheus.
    public struct Token: Sendable, Equatable, Decodable {
        public var token: String
        public var user: String

        public init(token: String, user: String) {
            self.token = token
            self.user = user
        }
    }

    /// Why a keys file cannot be used; the message names the file and the entry, never a secret.
    public struct LoadError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private var keysByID: [String: AccessKey]
    /// Tokens are looked up by their SHA-256, so that finding one takes no time that depends on how much
    /// of a guessed token is right.
    private var usersByTokenHash: [Data: String]

    public var keyCount: Int { keysByID.count }
    public var tokenCount: Int { usersByTokenHash.count }

    /// Validates the entries: at least one; ids, secrets, tokens and users non-empty; ids and tokens unique;
    /// ids and tokens free of the characters that would make the `Authorization` header ambiguous.
    public init(keys: [AccessKey], tokens: [Token], source: String = "the keys file") throws(LoadError) {
        func fail(_ message: String) -> LoadError { LoadError(message: "\(source): \(message)") }
        guard !keys.isEmpty || !tokens.isEmpty else {
            throw fail("no entries: list at least one access key under \"keys\" or one token under \"tokens\"")
        }
        keysByID = [:]
        for (index, key) in keys.enumerated() {
            let entry = "keys[\(index)]"
            guard !key.accessKeyId.isEmpty else { throw fail("\(entry) has an empty accessKeyId") }
            guard key.accessKeyId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw fail("\(entry): the accessKeyId '\(key.accessKeyId)' may hold only ASCII letters and digits")
            }
            guard !key.secretAccessKey.isEmpty else { throw fail("\(entry) (\(key.accessKeyId)) has an empty secretAccessKey") }
            guard !key.user.isEmpty else { throw fail("\(entry) (\(key.accessKeyId)) has an empty user") }
            guard keysByID[key.accessKeyId] == nil else {
                throw fail("\(entry) repeats the accessKeyId \(key.accessKeyId)")
            }
            keysByID[key.accessKeyId] = key
        }
        usersByTokenHash = [:]
        var firstIndex: [Data: Int] = [:]
        for (index, token) in tokens.enumerated() {
            let entry = "tokens[\(index)]"
            guard !token.token.isEmpty else { throw fail("\(entry) has an empty token") }
            guard token.token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
                throw fail("\(entry) (user \(token.user)): a token may hold only visible ASCII characters, no spaces")
            }
            guard !token.user.isEmpty else { throw fail("\(entry) has an empty user") }
            let hash = Self.hash(token.token)
            if let first = firstIndex[hash] { throw fail("\(entry) repeats the token of tokens[\(first)]") }
            firstIndex[hash] = index
            usersByTokenHash[hash] = token.user
        }
    }

    /// Reads and validates a keys file.
    public init(contentsOf url: URL) throws(LoadError) {
        let source = url.path
        guard FileManager.default.fileExists(atPath: source) else {
            throw LoadError(message: "cannot read the keys file \(source): there is no such file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw LoadError(message: "cannot read the keys file \(source): \(error.localizedDescription)")
        }
        try self.init(json: data, source: source)
    }

    /// Parses and validates the JSON text of a keys file.
    public init(json data: Data, source: String = "the keys file") throws(LoadError) {
        struct File: Decodable {
            var keys: [AccessKey]?
            var tokens: [Token]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch let error as DecodingError {
            throw LoadError(message: "\(source) is not a keys file: \(Self.describe(error))")
        } catch {
            throw LoadError(message: "\(source) is not a keys file: \(error)")
        }
        try self.init(keys: file.keys ?? [], tokens: file.tokens ?? [], source: source)
    }

    /// The access key with this id, if configured.
    public func accessKey(id: String) -> AccessKey? { keysByID[id] }

    /// The user a bearer token belongs to, if it is one of the configured tokens.
    public func user(forToken token: String) -> String? { usersByTokenHash[Self.hash(token)] }

    /// Counts only: safe to log.
    public var description: String {
        "\(keyCount) access key\(keyCount == 1 ? "" : "s"), \(tokenCount) token\(tokenCount == 1 ? "" : "s")"
    }

    private static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// A decoding failure in words, without quoting the file (it holds secrets).
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return "the text is not valid JSON"
        case .dataCorrupted(let context): return "unreadable value at \(path(context))"
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\" in \(path(context).isEmpty ? "the top level" : path(context))"
        case .typeMismatch(let type, let context): return "expected \(type) at \(path(context).isEmpty ? "the top level" : path(context))"
        case .valueNotFound(let type, let context): return "missing \(type) at \(path(context))"
        @unknown default: return "unreadable"
        }
    }
}
