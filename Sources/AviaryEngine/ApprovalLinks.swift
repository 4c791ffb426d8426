public import AviaryCore
import Crypto
public import Foundation
import Synchronization

/// What a signed link may do, for which deployment, until when. Only the signature makes it
/// trustworthy; that it was not used yet is the deployment's record to tell.
public struct LinkToken: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case approve
        case rollback
    }

    public let id: String
    public let deployment: DeploymentID
    public let action: Action
    public let expiresAt: Timestamp

    public init(id: String, deployment: DeploymentID, action: Action, expiresAt: Timestamp) {
        self.id = id
        self.deployment = deployment
        self.action = action
        self.expiresAt = expiresAt
    }
}

/// The approve and roll-back links of a gate.
public struct ApprovalLinks: Sendable, Hashable, Codable {
    public let approve: String
    public let rollback: String
    public let expiresAt: Timestamp
}

/// Why a link was refused before its deployment was even looked at.
public enum LinkRefusal: Error, Sendable, Equatable {
    /// Not a token Aviary could have minted: wrong shape or a signature that does not match.
    case forged
    case expired(LinkToken)
}

/// Mints and checks approval links: tokens signed with HMAC-SHA256 under a secret generated once and
/// kept in the data directory, so links stay valid across restarts and cannot be made without it.
public final class LinkSigner: Sendable {
    private let key: SymmetricKey
    private let base = Mutex("http://127.0.0.1")

    public init(secret: Data) {
        key = SymmetricKey(data: secret)
    }

    /// A signer with a fresh secret, for servers and tests without a data directory: its links die with it.
    public static func ephemeral() -> LinkSigner {
        LinkSigner(secret: Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
    }

    /// The secret in `file`, created (32 random bytes, readable by the owner only) the first time.
    public static func loadOrCreate(secretFile file: URL) throws -> LinkSigner {
        if let text = try? String(contentsOf: file, encoding: .utf8), let secret = Data(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            secret.count >= 32
        {
            return LinkSigner(secret: secret)
        }
        let secret = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let created = FileManager.default.createFile(
            atPath: file.path, contents: Data((secret.hex + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard created else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
        return LinkSigner(secret: secret)
    }

    /// Where links point: the server's public address (`--public-url`, else the address it listens on).
    public var baseURL: String {
        get { base.withLock { $0 } }
        set { base.withLock { $0 = newValue.hasSuffix("/") ? String(newValue.dropLast()) : newValue } }
    }

    /// The path under which link pages are served.
    public static let pathPrefix = "/approvals/"

    public func token(_ token: LinkToken) -> String {
        let payload = Data(Self.payload(token).utf8)
        return payload.base64URL + "." + Data(HMAC<SHA256>.authenticationCode(for: payload, using: key)).base64URL
    }

    public func url(_ token: LinkToken) -> String {
        baseURL + Self.pathPrefix + self.token(token)
    }

    /// The gate's two links, once the deployment has reached its gate.
    public func links(for deployment: Deployment) -> ApprovalLinks? {
        guard let approval = deployment.approval else { return nil }
        func link(_ action: LinkToken.Action, _ id: String) -> String {
            url(LinkToken(id: id, deployment: deployment.id, action: action, expiresAt: approval.expiresAt))
        }
        return ApprovalLinks(
            approve: link(.approve, approval.approveTokenID), rollback: link(.rollback, approval.rollbackTokenID),
            expiresAt: approval.expiresAt)
    }

    /// The token `text` stands for, if Aviary signed it and it has not expired at `now`.
    public func verify(_ text: some StringProtocol, now: Timestamp) -> Result<LinkToken, LinkRefusal> {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.count <= 512, parts.count == 2, let payload = Data(base64URL: parts[0]), let signature = Data(base64URL: parts[1]),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: payload, using: key),
            let token = Self.token(String(decoding: payload, as: UTF8.self))
        else { return .failure(.forged) }
        return now < token.expiresAt ? .success(token) : .failure(.expired(token))
    }

    static func payload(_ token: LinkToken) -> String {
        ["v1", token.deployment.rawValue, token.action.rawValue, token.id, String(token.expiresAt.millisecondsSince1970)]
            .joined(separator: "|")
    }

    static func token(_ payload: String) -> LinkToken? {
        let fields = payload.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 5, fields[0] == "v1", let deployment = DeploymentID(fields[1]),
            let action = LinkToken.Action(rawValue: fields[2]), !fields[3].isEmpty, let expiry = Int64(fields[4])
        else { return nil }
        return LinkToken(id: fields[3], deployment: deployment, action: action, expiresAt: Timestamp(millisecondsSince1970: expiry))
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL text: some StringProtocol) {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }

    init?(hex text: String) {
        guard text.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
