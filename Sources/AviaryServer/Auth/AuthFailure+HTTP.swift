import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The one place where authentication failures become HTTP, in the error format of the API refused.
extension AuthFailure {
    /// `/v1` without credentials.
    static let credentialsRequired = AuthFailure(
        "Unauthorized", "Aviary's API needs 'Authorization: Bearer <token>' (see AVIARY_TOKEN) or an AWS SigV4 signature")

    /// `/v1` with a bearer token that is not configured. The token itself is never repeated.
    static let unknownToken = AuthFailure("Unauthorized", "The bearer token is not one of this server's tokens")

    func response(for surface: AuthMiddleware.Surface) -> Response {
        reply(for: surface).response
    }

    func reply(for surface: AuthMiddleware.Surface) -> LambdaAPI.InvokeReply {
        let status: HTTPResponse.Status
        var headers = HTTPFields()
        let body: [String: String]
        switch surface {
        case .aviary:
            // Aviary's own `{code, message}`, whatever the SigV4 problem was; the message still says it.
            status = .unauthorized
            headers[.contentType] = "application/json"
            headers[.wwwAuthenticate] = "Bearer"
            body = ["code": "Unauthorized", "message": message]
        case .codeDeploy:
            // JSON 1.1: botocore reads the code from `__type`.
            status = .forbidden
            headers[.contentType] = "application/x-amz-json-1.1"
            headers[.amznErrorType] = code
            body = ["__type": code, "message": message]
        case .lambda, .open:
            status = .forbidden
            headers[.contentType] = "application/json"
            headers[.amznErrorType] = code
            body = ["message": message]
        }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return LambdaAPI.InvokeReply(status: status, headers: headers, body: ByteBuffer(bytes: data))
    }
}
