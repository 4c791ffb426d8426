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

    /// What an Invoke request asks for, read from its path, query and headers.
    struct InvokeCall: Sendable {
        let id: FunctionIdentifier
        let invocationType: String
        let logType: String
        let clientContext: String?
    }

    /// An answer to Invoke, for the router or for `InvokeChannelHandler`.
    struct InvokeReply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer

        var response: Response { Response(status: status, headers: headers, body: .init(byteBuffer: body)) }
    }

    /// What to do with a validated call and its payload.
    enum InvokePlan {
        case dryRun
        case event(Data)
        case run(Run)
    }

    struct Run: Sendable {
        let function: FunctionName
        let alias: AliasName?
        let version: VersionSelector
        let configuration: FunctionConfiguration
        let reservedConcurrency: Int?
        let invocation: Invocation
    }

    static func payloadTooLarge() -> LambdaError {
        LambdaError(
            .requestEntityTooLarge,
            "Request must be smaller than \(maxInvokePayload) bytes for the InvokeFunction operation")
    }

    /// Invoke through the router (signed requests, `Event` invocations): resolves the qualifier (an alias
    /// draws its version per request), runs the event on that version and answers as AWS does. Reads only
    /// the in-memory registry snapshot.
    @Sendable func invoke(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let call = try invokeCall(
            name: context.parameters.require("name"), qualifier: request.uri.queryParameters.get("Qualifier"),
            headers: request.headers)
        let payload: ByteBuffer
        do {
            payload = try await request.body.collect(upTo: Self.maxInvokePayload)
        } catch is NIOTooManyBytesError {
            throw Self.payloadTooLarge()
        }
        switch try plan(call, payload: payload, requestID: context.requestID) {
        case .dryRun:
            return Response(status: .noContent)
        case .event(let data):
            try await events.enqueue(function: call.id.name, qualifier: call.id.qualifier, payload: data, requestID: context.requestID)
            return Response(status: .accepted)
        case .run(let run):
            let result = try await runtime.invoke(
                function: run.function, alias: run.alias, version: run.version, configuration: run.configuration,
                reservedConcurrency: run.reservedConcurrency, invocation: run.invocation)
            return reply(to: result, logType: call.logType).response
        }
    }

    /// Invoke answered through `completion` (for `InvokeChannelHandler`): called on the thread that
    /// receives the function's answer, or at once for a refusal or a dry run.
    func invoke(
        _ call: InvokeCall, payload: ByteBuffer, requestID: String,
        completion: @escaping @Sendable (Result<InvokeReply, any Error>) -> Void
    ) {
        let plan: InvokePlan
        do {
            plan = try self.plan(call, payload: payload, requestID: requestID)
        } catch {
            return completion(.failure(error))
        }
        switch plan {
        case .dryRun:
            completion(.success(InvokeReply(status: .noContent, headers: [:], body: ByteBuffer())))
        case .event(let data):
            Task {
                do {
                    try await events.enqueue(function: call.id.name, qualifier: call.id.qualifier, payload: data, requestID: requestID)
                    completion(.success(InvokeReply(status: .accepted, headers: [:], body: ByteBuffer())))
                } catch {
                    completion(.failure(error))
                }
            }
        case .run(let run):
            runtime.invoke(
                function: run.function, alias: run.alias, version: run.version, configuration: run.configuration,
                reservedConcurrency: run.reservedConcurrency, invocation: run.invocation
            ) { result in
                completion(result.map { self.reply(to: $0, logType: call.logType) })
            }
        }
    }

    /// Reads and checks what the request asks for: the function (path segment, URL-encoded as clients
    /// send it, and `?Qualifier=`), the invocation and log types, the client context.
    func invokeCall(name: String, qualifier: String?, headers: HTTPFields) throws -> InvokeCall {
        let id = try FunctionIdentifier(parsing: Self.percentDecoded(name), scope: scope)
            .qualified(by: qualifier.flatMap { raw throws(LambdaError) in raw.isEmpty ? nil : try Qualifier(validating: raw) })
        let invocationType = headers[.amzInvocationType] ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(invocationType) else {
            throw LambdaError.validation(
                value: invocationType, field: "invocationType",
                constraint: "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        }
        let logType = headers[.amzLogType] ?? "None"
        guard logType == "None" || logType == "Tail" else {
            throw LambdaError.validation(
                value: logType, field: "logType", constraint: "Member must satisfy enum value set: [Tail, None]")
        }
        let clientContext = try headers[.amzClientContext].map { encoded throws(LambdaError) -> String in
            guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else {
                throw LambdaError(.invalidRequestContent, "Client context must be a valid Base64-encoded JSON object.")
            }
            return text
        }
        return InvokeCall(id: id, invocationType: invocationType, logType: logType, clientContext: clientContext)
    }

    /// Checks the payload and picks what runs: the version (an alias draws per request), its
    /// configuration, the event handed to the runtime.
    func plan(_ call: InvokeCall, payload: ByteBuffer, requestID: String) throws -> InvokePlan {
        if payload.readableBytes > 0, let failure = payload.withUnsafeReadableBytes(JSONValidation.firstFailure(in:)) {
            throw LambdaError(.invalidRequestContent, "Could not parse request body into json: \(failure)")
        }
        let id = call.id
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
                        clientContext: { call.clientContext.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } })
                },
                draw: FastRandom.unitInterval)
            configuration = function.configuration(of: version) ?? configuration
        }
        switch call.invocationType {
        case "DryRun":
            return .dryRun
        case "Event":
            guard payload.readableBytes <= EventQueue.maxPayloadBytes else {
                throw LambdaError(
                    .requestEntityTooLarge,
                    "\(payload.readableBytes) byte payload is too large for the Event invocation type "
                        + "(limit \(EventQueue.maxPayloadBytes) bytes)")
            }
            return .event(Data(buffer: payload))
        default:
            let invocation = Invocation(
                requestID: requestID,
                payload: payload.readableBytes > 0 ? payload : ByteBuffer(string: "{}"),
                invokedFunctionARN: id.qualifier == nil
                    ? scope.functionARN(id.name) : scope.functionARN(id.name, qualifier: id.qualifier ?? .latest),
                clientContext: call.clientContext, keepsLogTail: call.logType == "Tail")
            return .run(Run(
                function: id.name, alias: resolution.alias?.name, version: version, configuration: configuration,
                reservedConcurrency: function.reservedConcurrency, invocation: invocation))
        }
    }

    /// AWS's answer to a run: 200 with the response, or with `X-Amz-Function-Error` and the error JSON;
    /// the executed version; the log's end for `LogType: Tail`.
    func reply(to result: InvocationResult, logType: String) -> InvokeReply {
        var headers: HTTPFields = [.contentType: "application/json", .amzExecutedVersion: result.executedVersion.description]
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
        return InvokeReply(status: .ok, headers: headers, body: body)
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
