import Crypto
import Foundation

/// Presigned links to code archives, as GetFunction's `Code.Location` is on AWS (a presigned S3 URL valid
/// for ten minutes): `/v1/code/<sha256 hex>?Expires=<epoch seconds>&Signature=<HMAC-SHA256 hex>`. The key
/// is made per process: a restart ends outstanding links, as their expiry would.
enum CodeLinks {
    static let lifetime: TimeInterval = 600
    private static let key = SymmetricKey(size: .bits256)

    static func path(hex: String, now: Date) -> String {
        let expires = Int(now.timeIntervalSince1970 + lifetime)
        return "/v1/code/\(hex)?Expires=\(expires)&Signature=\(signature(hex: hex, expires: expires))"
    }

    static func isValid(hex: String, expires: String?, signature: String, now: Date) -> Bool {
        guard let expires, let seconds = Int(expires), Double(seconds) > now.timeIntervalSince1970,
            let given = Data(hexString: signature)
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(hex)|\(seconds)".utf8), using: key)
    }

    private static func signature(hex: String, expires: Int) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(hex)|\(expires)".utf8), using: key)
            .map { String(format: "%02x", $0) }.joined()
    }
}
