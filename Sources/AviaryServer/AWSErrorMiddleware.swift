import AviaryCore
import AviaryRuntime
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every response an `x-amzn-RequestId`, turns every error into an AWS-style error response and logs
/// one line per request at debug.
///
/// Clients' mistakes become 4xx with an error type; unknown routes become `UnknownOperationException` (404).
/// Only a failure of Aviary itself is a 500 `ServiceException`, and its details stay in the server log.
struct AWSErrorMiddleware: RouterMiddleware {
    typealias Context = LambdaRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requestID = FastRandom.uuid()
        context.requestID = requestID
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
            response.headers[.amznRequestID] = requestID
        } catch let error as LambdaError {
            response = error.response(requestID: requestID)
        } catch let error as DeploymentError {
            response = error.response(requestID: requestID)
        } catch let error as any HTTPResponseError where request.uri.path.hasPrefix("/v1/") {
            let message = error.status == .notFound || error.status == .methodNotAllowed
                ? "Aviary has no operation \(request.method) \(request.uri.path)" : "\(error)"
            response = DeploymentError("UnknownOperation", error.status == .notFound || error.status == .methodNotAllowed ? .notFound : .invalidRequest, message)
                .response(requestID: requestID)
        } catch let error as any HTTPResponseError {
            response = Self.lambdaError(for: error, request: request).response(requestID: requestID)
        } catch {
            context.logger.error(
                "request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)", "request_id": "\(requestID)"])
            response = LambdaError(.service, "An internal error occurred (request id \(requestID)).")
                .response(requestID: requestID)
        }
        context.logger.debug(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: ["request_id": "\(requestID)", "ms": "\((ContinuousClock.now - started).milliseconds)"])
        return response
    }

    /// Maps framework errors (no route, body too large, malformed input) to Lambda error codes.
    static func lambdaError(for error: any HTTPResponseError, request: Request) -> LambdaError {
        switch error.status {
        case .notFound, .methodNotAllowed:
            LambdaError(.unknownOperation, "Aviary has no operation \(request.method) \(request.uri.path)")
        case .contentTooLarge:
            LambdaError(.requestEntityTooLarge, "Request body too large")
        default:
            LambdaError(.invalidRequestContent, "\(error)")
        }
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
