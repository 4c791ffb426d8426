/// Why a request was refused by authentication, with AWS's error type and message.
///
/// The same failure is rendered three ways by `AuthMiddleware`, one per API: the Lambda REST API's
/// (403, `x-amzn-ErrorType`), CodeDeploy's JSON 1.1 (`__type` in the body, which botocore reads there),
/// and Aviary's own `/v1` (401 `Unauthorized`).
public struct AuthFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// AWS's error type, e.g. `InvalidSignatureException`.
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static let missingToken = AuthFailure("MissingAuthenticationTokenException", "Missing Authentication Token")

    public static let unrecognizedClient = AuthFailure(
        "UnrecognizedClientException", "The security token included in the request is invalid.")

    public static let signatureMismatch = AuthFailure(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key "
            + "and signing method. Consult the service documentation for details.")

    static func invalidSignature(_ message: String) -> AuthFailure { AuthFailure("InvalidSignatureException", message) }

    static func incomplete(_ message: String) -> AuthFailure { AuthFailure("IncompleteSignatureException", message) }
}
