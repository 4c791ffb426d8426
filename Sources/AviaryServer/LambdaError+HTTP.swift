import AviaryCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The one place where Lambda error codes become HTTP: status, `x-amzn-ErrorType`, and AWS's body shape.
extension LambdaError {
    var status: HTTPResponse.Status {
        switch code {
        case .invalidParameterValue, .validation, .invalidRequestContent: .badRequest
        case .resourceNotFound, .unknownOperation: .notFound
        case .resourceConflict: .conflict
        case .preconditionFailed: .preconditionFailed
        case .requestEntityTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .tooManyRequests: .tooManyRequests
        default: .internalServerError
        }
    }

    /// The model spells the message member `Message` on some shapes and `message` on others.
    private var messageKey: String {
        switch code {
        case .resourceNotFound, .service: "Message"
        default: "message"
        }
    }

    func response(requestID: String) -> Response {
        reply(requestID: requestID).response
    }

    func reply(requestID: String) -> LambdaAPI.InvokeReply {
        var body: [String: String] = [
            "Type": status.code >= 500 ? "Service" : "User",
            messageKey: message,
        ]
        if let reason { body["Reason"] = reason }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.amznErrorType] = code.rawValue
        headers[.amznRequestID] = requestID
        if code == .tooManyRequests { headers[.retryAfter] = "1" }
        return LambdaAPI.InvokeReply(status: status, headers: headers, body: ByteBuffer(bytes: data))
    }
}

extension HTTPField.Name {
    static let amznErrorType = HTTPField.Name("x-amzn-ErrorType")!
    static let amznRequestID = HTTPField.Name("x-amzn-RequestId")!
}

extension DeploymentError {
    /// Aviary's own error body: `{"code": …, "message": …}` (plus the active deployment's id on conflicts).
    func response(requestID: String) -> Response {
        let status: HTTPResponse.Status =
            switch kind {
            case .invalidRequest: .badRequest
            case .notFound: .notFound
            case .conflict: .conflict
            case .tooLarge: .contentTooLarge
            case .forbidden: .forbidden
            }
        var body = ["code": code, "message": message]
        if let activeDeployment { body["activeDeploymentId"] = activeDeployment.rawValue }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json", .amznRequestID: requestID],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
