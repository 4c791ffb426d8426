@testable import AviaryCore
import Testing

@Suite struct FunctionIdentifierTests {
    @Test(arguments: [
        ("orders", "orders", nil),
        ("orders:live", "orders", "live"),
        ("orders:7", "orders", "7"),
        ("orders:$LATEST", "orders", "$LATEST"),
        ("123456789012:function:orders", "orders", nil),
        ("123456789012:function:orders:live", "orders", "live"),
        ("arn:aws:lambda:us-east-1:123456789012:function:orders", "orders", nil),
        ("arn:aws:lambda:us-east-1:123456789012:function:orders:3", "orders", "3"),
        ("arn:aws:lambda:us-east-1:123456789012:function:my_fn-2:$LATEST", "my_fn-2", "$LATEST"),
    ] as [(String, String, String?)])
    func everyIdentifierFormParses(raw: String, name: String, qualifier: String?) throws {
        let id = try FunctionIdentifier(parsing: raw, scope: scope)
        #expect(id.name.rawValue == name)
        #expect(id.qualifier?.description == qualifier)
    }

    @Test func qualifiersAreClassified() throws {
        #expect(try FunctionIdentifier(parsing: "f:7", scope: scope).qualifier == .version(.published(VersionNumber(7))))
        #expect(try FunctionIdentifier(parsing: "f:$LATEST", scope: scope).qualifier == .latest)
        #expect(try FunctionIdentifier(parsing: "f:live", scope: scope).qualifier == .alias(AliasName(trusted: "live")))
    }

    @Test(arguments: ["", "bad name", "a:b:c", "orders:", "arn:aws:lambda:us-east-1:123456789012:function:",
        "arn:aws:s3:us-east-1:123456789012:function:f", "12345:function:f", "f:bad$qual", "f.g"])
    func malformedIdentifiersGetThePatternError(raw: String) {
        expectLambdaError(.validation) { _ = try FunctionIdentifier(parsing: raw, scope: scope) }
        let error = lambdaError { _ = try FunctionIdentifier(parsing: raw, scope: scope) }
        #expect(error?.message.contains("at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern") == true)
    }

    @Test func aNameLongerThan64IsRefusedAsAWSDoes() {
        let long = String(repeating: "a", count: 65)
        expectLambdaError(
            .invalidParameterValue,
            "1 validation error detected: Value '\(long)' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"
        ) { _ = try FunctionIdentifier(parsing: long, scope: scope) }
        #expect((try? FunctionIdentifier(parsing: String(repeating: "a", count: 64), scope: scope)) != nil)
    }

    @Test func anARNFromAnotherRegionIsNotReachable() {
        expectLambdaError(.resourceNotFound, "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')") {
            _ = try FunctionIdentifier(parsing: "arn:aws:lambda:eu-west-1:123456789012:function:f", scope: scope)
        }
    }

    @Test func anARNOfAnotherAccountFindsNothing() {
        expectLambdaError(.resourceNotFound) {
            _ = try FunctionIdentifier(parsing: "arn:aws:lambda:us-east-1:999999999999:function:f", scope: scope)
        }
    }

    @Test func derivedAndExplicitQualifiersMustAgree() throws {
        let id = try FunctionIdentifier(parsing: "f:1", scope: scope)
        #expect(try id.qualified(by: .version(.published(VersionNumber(1)))).qualifier?.description == "1")
        #expect(try id.qualified(by: nil).qualifier?.description == "1")
        #expect(try FunctionIdentifier(parsing: "f", scope: scope).qualified(by: .latest).qualifier == .latest)
        expectLambdaError(
            .invalidParameterValue, "The derived qualifier from the function name does not match the specified qualifier."
        ) { _ = try id.qualified(by: .version(.published(VersionNumber(2)))) }
    }

    @Test func arnsAreBuiltFromTheScope() {
        let name = FunctionName(trusted: "f")
        #expect(scope.functionARN(name) == "arn:aws:lambda:us-east-1:123456789012:function:f")
        #expect(scope.functionARN(name, qualifier: VersionSelector.latest) == "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST")
        let other = AccountScope(region: "eu-central-1", accountID: "000000000000")
        #expect(other.functionARN(name, qualifier: "live") == "arn:aws:lambda:eu-central-1:000000000000:function:f:live")
    }
}

@Suite struct NameTests {
    @Test(arguments: ["live", "2024-01-02", "a", "PROD_1", String(repeating: "x", count: 128)])
    func validAliasNames(raw: String) throws {
        #expect(try AliasName(validating: raw).rawValue == raw)
    }

    @Test func anAllDigitAliasNameIsRefusedWithAWSsText() {
        expectLambdaError(
            .validation,
            "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        ) { _ = try AliasName(validating: "2024") }
    }

    @Test(arguments: ["", "has space", "a:b", "a.b"])
    func invalidAliasNames(raw: String) {
        expectLambdaError(.validation) { _ = try AliasName(validating: raw) }
    }

    @Test func aliasNamesOver128AreTooLong() {
        expectLambdaError(.validation) { _ = try AliasName(validating: String(repeating: "x", count: 129)) }
    }

    @Test func versionSelectorsParseTheVersionShape() throws {
        #expect(try VersionSelector(validating: "$LATEST", field: "functionVersion") == .latest)
        #expect(try VersionSelector(validating: "12", field: "functionVersion") == .published(VersionNumber(12)))
        expectLambdaError(.validation) { _ = try VersionSelector(validating: "live", field: "functionVersion") }
        #expect(try VersionSelector(validating: "0", field: "functionVersion") == .published(VersionNumber.unreachable))
    }

    @Test func versionNumbersRejectNonDigitsAndOverflow() {
        #expect(VersionNumber("7")?.value == 7)
        #expect(VersionNumber("-1") == nil)
        #expect(VersionNumber("+1") == nil)
        #expect(VersionNumber("99999999999999999999999") == nil)
    }
}
