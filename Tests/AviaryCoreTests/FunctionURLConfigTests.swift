@testable import AviaryCore
import Testing

@Suite struct FunctionURLConfigTests {
    let changes = TestChanges()
    let live = AliasName(trusted: "live")

    func withAlias() throws -> LambdaFunction {
        var function = try makeFunction(publish: true)
        _ = try function.createAlias(
            name: live, functionVersion: "1", description: nil, weights: nil, scope: scope, context: changes.context)
        return function
    }

    @Test func theFunctionAndEachAliasHaveAtMostOneURL() throws {
        var function = try withAlias()
        let own = try function.createURLConfig(alias: nil, authType: .noAuth, cors: nil, invokeMode: nil, scope: scope, at: changes.now)
        #expect(own.invokeMode == "BUFFERED" && own.authType == .noAuth && own.creationTime == changes.now)
        _ = try function.createURLConfig(alias: live, authType: .awsIAM, cors: nil, invokeMode: "BUFFERED", scope: scope, at: changes.now)
        #expect(function.urlConfigs.count == 2)
        #expect(throws: LambdaError.self) {
            try function.createURLConfig(alias: live, authType: .noAuth, cors: nil, invokeMode: nil, scope: scope, at: changes.now)
        }
        do {
            _ = try function.createURLConfig(alias: nil, authType: .noAuth, cors: nil, invokeMode: nil, scope: scope, at: changes.now)
            Issue.record("a second URL for the function was accepted")
        } catch {
            #expect(error.code == .resourceConflict)
            #expect(error.message.contains("FunctionUrlConfig exists for this Lambda function"))
        }
    }

    @Test func anAliasMustExistAndTakesItsURLWithIt() throws {
        var function = try withAlias()
        do {
            _ = try function.createURLConfig(
                alias: AliasName(trusted: "nope"), authType: .noAuth, cors: nil, invokeMode: nil, scope: scope, at: changes.now)
            Issue.record("a URL for a missing alias was accepted")
        } catch {
            #expect(error.code == .resourceNotFound)
        }
        _ = try function.createURLConfig(alias: live, authType: .noAuth, cors: nil, invokeMode: nil, scope: scope, at: changes.now)
        function.deleteAlias(name: live)
        #expect(function.urlConfigs.isEmpty)
    }

    @Test func updateChangesWhatIsGivenAndDeleteNeedsAURL() throws {
        var function = try withAlias()
        let later = Timestamp(millisecondsSince1970: changes.now.millisecondsSince1970 + 5_000)
        #expect(throws: LambdaError.self) {
            try function.updateURLConfig(alias: nil, authType: .awsIAM, cors: nil, invokeMode: nil, scope: scope, at: later)
        }
        _ = try function.createURLConfig(
            alias: nil, authType: .noAuth, cors: .init(allowOrigins: ["https://a.example"]), invokeMode: nil, scope: scope,
            at: changes.now)
        let updated = try function.updateURLConfig(alias: nil, authType: .awsIAM, cors: nil, invokeMode: nil, scope: scope, at: later)
        #expect(updated.authType == .awsIAM)
        #expect(updated.cors?.allowOrigins == ["https://a.example"])
        #expect(updated.creationTime == changes.now && updated.lastModifiedTime == later)
        try function.deleteURLConfig(alias: nil, scope: scope)
        #expect(throws: LambdaError.self) { try function.deleteURLConfig(alias: nil, scope: scope) }
        #expect(throws: LambdaError.self) { try function.urlConfig(alias: nil, scope: scope) }
    }

    @Test func streamingAndBadCORSAreRefused() throws {
        var function = try withAlias()
        for (cors, mode) in [
            (FunctionURLConfig.Cors?.none, "RESPONSE_STREAM"), (nil, "FAST"),
            (.init(allowMethods: ["GET", "TRACE"]), nil), (.init(maxAge: 86_401), nil),
            (.init(allowOrigins: [String](repeating: "https://a.example", count: 101)), nil),
            (.init(allowOrigins: [""]), nil),
        ] {
            #expect(throws: LambdaError.self, "\(String(describing: cors)) \(mode ?? "")") {
                try function.createURLConfig(alias: nil, authType: .noAuth, cors: cors, invokeMode: mode, scope: scope, at: changes.now)
            }
        }
        #expect(function.urlConfigs.isEmpty)
        let config = try function.createURLConfig(
            alias: nil, authType: .noAuth, cors: .init(allowMethods: ["get", "*"]), invokeMode: nil, scope: scope, at: changes.now)
        #expect(config.cors?.allowMethods == ["GET", "*"])
        #expect(throws: LambdaError.self) { try FunctionURLConfig.authType(validating: "IAM") }
    }

    @Test func allowedOriginsFollowLambda() {
        let listed = FunctionURLConfig.Cors(allowOrigins: ["https://a.example"])
        #expect(listed.allowedOrigin("https://a.example") == "https://a.example")
        #expect(listed.allowedOrigin("https://b.example") == nil)
        #expect(FunctionURLConfig.Cors(allowOrigins: ["*"]).allowedOrigin("https://b.example") == "*")
        // With credentials a wildcard cannot be sent back: the caller's origin is.
        #expect(FunctionURLConfig.Cors(allowCredentials: true, allowOrigins: ["*"]).allowedOrigin("https://b.example") == "https://b.example")
        #expect(FunctionURLConfig.Cors().allowedOrigin("https://a.example") == nil)
    }
}
