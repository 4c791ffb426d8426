import AviaryCore
import AviaryRuntime
import AviaryStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension LambdaAPI {
    /// AWS's limit on a synchronous request payload.
    static let maxInvokePayload = 6_291_456
    /// The part of an invocation's log returned with `LogType: Tail`.
    static let logTailBytes = 4096

    /// Invoke: resolves the qualifier (an alias draws its version per request), runs the event on that
    /// version and answers as AWS does. Reads only the in-memory registry snapshot.
    @Sendable func invoke(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        let invocationType = request.headers[.amzInvocationType] ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(invocationType) else {
            throw LambdaError.validation(
                value: invocationType, field: "invocationType",
                constraint: "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        }
        let logType = request.headers[.amzLogType] ?? "None"
        guard logType == "None" || logType == "Tail" else {
            throw LambdaError.validation(
                value: logType, field: "logType", constraint: "Member must satisfy enum value set: [Tail, None]")
        }
        let payload: ByteBuffer
        do {
            payload = try await request.body.collect(upTo: Self.maxInvokePayload)
        } catch is NIOTooManyBytesError {
            throw LambdaError(
                .requestEntityTooLarge,
                "Request must be smaller than \(Self.maxInvokePayload) bytes for the InvokeFunction operation")
        }
        if payload.readableBytes > 0, let failure = payload.withUnsafeReadableBytes(JSONValidation.firstFailure(in:)) {
            throw LambdaError(.invalidRequestContent, "Could not parse request body into json: \(failure)")
        }
        let clientContext = try request.headers[.amzClientContext].map { encoded throws(LambdaError) -> String in
            guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else {
                throw LambdaError(.invalidRequestContent, "Client context must be a valid Base64-encoded JSON object.")
            }
            return text
        }

        guard let function = store.function(id.name) else {
            throw LambdaError.functionNotFound(scope.functionARN(id.name, qualifier: id.qualifier ?? .latest))
        }
        let resolution = try function.resolve(id.qualifier, scope: scope)
        var version = resolution.version
        var configuration = resolution.configuration
        if let alias = resolution.alias, alias.routing != nil {
            version = alias.pick(
                key: {
                    alias.sticky?.key(
                        header: { _ in nil },
                        event: { try? JSONSerialization.jsonObject(with: Data(buffer: payload), options: [.fragmentsAllowed]) },
                        clientContext: { clientContext.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } })
                },
                draw: FastRandom.unitInterval)
            configuration = function.configuration(of: version) ?? configuration
        }
        if invocationType == "DryRun" { return Response(status: .noContent) }
        if invocationType == "Event" {
            guard payload.readableBytes <= EventQueue.maxPayloadBytes else {
                throw LambdaError(
                    .requestEntityTooLarge,
                    "\(payload.readableBytes) byte payload is too large for the Event invocation type "
                        + "(limit \(EventQueue.maxPayloadBytes) bytes)")
            }
            try await events.enqueue(
                function: id.name, qualifier: id.qualifier, payload: Data(buffer: payload), requestID: context.requestID)
            return Response(status: .accepted)
        }

        let invokedARN = scope.functionARN(id.name, qualifier: id.qualifier ?? .latest)
        let invocation = Invocation(
            requestID: context.requestID,
            payload: payload.readableBytes > 0 ? payload : ByteBuffer(string: "{}"),
            invokedFunctionARN: id.qualifier == nil ? scope.functionARN(id.name) : invokedARN,
            clientContext: clientContext, keepsLogTail: logType == "Tail")
        let result = try await runtime.invoke(
            function: id.name, alias: resolution.alias?.name, version: version, configuration: configuration,
            reservedConcurrency: function.reservedConcurrency, invocation: invocation)

        var headers: HTTPFields = [.contentType: "application/json", .amzExecutedVersion: version.description]
        let body: ByteBuffer
        switch result.outcome {
        case .success(let response):
            body = response
        case .functionError(let error):
            headers[.amzFunctionError] = "Unhandled"
            body = error
        }
        if logType == "Tail" {
            headers[.amzLogResult] = Data(result.logTail(bytes: Self.logTailBytes)).base64EncodedString()
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

extension HTTPField.Name {
    static let amzInvocationType = HTTPField.Name("X-Amz-Invocation-Type")!
    static let amzLogType = HTTPField.Name("X-Amz-Log-Type")!
    static let amzClientContext = HTTPField.Name("X-Amz-Client-Context")!
    static let amzExecutedVersion = HTTPField.Name("X-Amz-Executed-Version")!
    static let amzFunctionError = HTTPField.Name("X-Amz-Function-Error")!
    static let amzLogResult = HTTPField.Name("X-Amz-Log-Result")!
}
