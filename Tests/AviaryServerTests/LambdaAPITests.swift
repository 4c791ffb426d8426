import AviaryCore
@testable import AviaryServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@Suite struct LambdaAPITests {
    @Test func createFunctionAnswers201WithAWSsConfigurationShape() async throws {
        try await TestServer().run { client in
            let response = try await client.createFunction("orders")
            #expect(response.status == .created)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!] != nil)
            let body = try json(response)
            #expect(body["FunctionName"] as? String == "orders")
            #expect(body["FunctionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders")
            #expect(body["Version"] as? String == "$LATEST")
            #expect(body["CodeSize"] as? Int == helloZip.count)
            #expect(body["Timeout"] as? Int == 3)
            #expect(body["MemorySize"] as? Int == 128)
            #expect(body["Description"] as? String == "")
            #expect(body["State"] as? String == "Active")
            #expect(body["PackageType"] as? String == "Zip")
            #expect(body["Architectures"] as? [String] == ["x86_64"])
            #expect(body["Environment"] == nil)
            let lastModified = try #require(body["LastModified"] as? String)
            #expect(lastModified.count == 28 && lastModified.hasSuffix("+0000"))
        }
    }

    @Test func createWithPublishReportsVersionOneUnderTheUnqualifiedARN() async throws {
        try await TestServer().run { client in
            let body = try json(try await client.createFunction("orders", publish: true))
            #expect(body["Version"] as? String == "1")
            #expect(body["FunctionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders")
        }
    }

    @Test func theFunctionNameMayBeAnyIdentifierFormAndURLEncoded() async throws {
        try await TestServer().run { client in
            try await client.createFunction("orders", publish: true)
            try await client.send(.post, "/2015-03-31/functions/orders/aliases", #"{"Name":"live","FunctionVersion":"1"}"#)
            for path in ["orders", "orders%3A1", "123456789012%3Afunction%3Aorders",
                         "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders",
                         "arn:aws:lambda:us-east-1:123456789012:function:orders:live"] {
                let response = try await client.send(.get, "/2015-03-31/functions/\(path)/configuration")
                #expect(response.status == .ok, "\(path)")
            }
            let viaAlias = try json(try await client.send(.get, "/2015-03-31/functions/orders?Qualifier=live"))
            let configuration = try #require(viaAlias["Configuration"] as? [String: Any])
            #expect(configuration["FunctionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders:live")
            #expect(configuration["Version"] as? String == "1")
            let code = try #require(viaAlias["Code"] as? [String: Any])
            #expect(code["RepositoryType"] as? String == "S3")
            let latest = try json(try await client.send(.get, "/2015-03-31/functions/orders/configuration?Qualifier=%24LATEST"))
            #expect(latest["FunctionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST")
        }
    }

    @Test func theCodeLocationServesTheArchive() async throws {
        try await TestServer().run { client in
            try await client.createFunction("orders")
            let body = try json(try await client.send(.get, "/2015-03-31/functions/orders"))
            let location = try #require((body["Code"] as? [String: Any])?["Location"] as? String)
            let url = try #require(URL(string: location))
            let query = try #require(url.query)
            #expect(query.hasPrefix("Expires=") && query.contains("&Signature="))
            let download = try await client.send(.get, url.path + "?" + query)
            #expect(download.status == .ok)
            #expect(Data(buffer: download.body) == helloZip)
            let tampered = try await client.send(.get, url.path + "?" + query.replacingOccurrences(of: "Expires=", with: "Expires=9"))
            #expect(tampered.status == .forbidden)
            let hex = url.lastPathComponent
            #expect(CodeLinks.isValid(hex: hex, expires: String(Int(Date().timeIntervalSince1970) - 1), signature: "00", now: Date()) == false)
            #expect(CodeLinks.path(hex: hex, now: Date(timeIntervalSince1970: 0)).hasPrefix("/v1/code/\(hex)?Expires=600&"))
            try expectAWSError(try await client.send(.get, "/v1/code/" + String(repeating: "0", count: 64)), status: .notFound, type: "ResourceNotFoundException")
        }
    }

    @Test func errorsCarryTheTypeHeaderAndTheModelsMessageMember() async throws {
        try await TestServer().run { client in
            // ResourceNotFoundException spells its member "Message" ...
            let missing = try await client.send(.get, "/2015-03-31/functions/nope")
            try expectAWSError(missing, status: .notFound, type: "ResourceNotFoundException",
                               message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope")
            #expect(try json(missing)["Message"] != nil)
            // ... the others "message".
            try await client.createFunction("orders")
            let duplicate = try await client.createFunction("orders")
            try expectAWSError(duplicate, status: .conflict, type: "ResourceConflictException", message: "Function already exist: orders")
            #expect(try json(duplicate)["message"] != nil)
        }
    }

    @Test func unknownRoutesAndWrongMethodsAre404UnknownOperation() async throws {
        try await TestServer().run { client in
            try expectAWSError(try await client.send(.get, "/2015-03-31/nothing-here"), status: .notFound, type: "UnknownOperationException")
            try expectAWSError(try await client.send(.patch, "/2015-03-31/functions"), status: .notFound, type: "UnknownOperationException")
        }
    }

    @Test func malformedBodiesAre400InvalidRequestContent() async throws {
        try await TestServer().run { client in
            try expectAWSError(try await client.send(.post, "/2015-03-31/functions", "{not json"), status: .badRequest, type: "InvalidRequestContentException")
            try expectAWSError(try await client.send(.post, "/2015-03-31/functions", #"{"FunctionName": 7}"#), status: .badRequest, type: "InvalidRequestContentException")
            try expectAWSError(try await client.send(.post, "/2015-03-31/functions", #"{"FunctionName":"f","Role":"arn:aws:iam::123456789012:role/r","Runtime":"python3.12","Handler":"h","Code":{"ZipFile":"***"}}"#),
                               status: .badRequest, type: "InvalidRequestContentException")
        }
    }

    @Test func codeSourcesAviaryDoesNotRunAreRefusedClearly() async throws {
        try await TestServer().run { client in
            let s3 = try await client.send(.post, "/2015-03-31/functions", #"{"FunctionName":"f","Role":"arn:aws:iam::123456789012:role/r","Runtime":"python3.12","Handler":"h","Code":{"S3Bucket":"b","S3Key":"k"}}"#)
            try expectAWSError(s3, status: .badRequest, type: "InvalidParameterValueException")
            let corrupt = try await client.send(.post, "/2015-03-31/functions", #"{"FunctionName":"f","Role":"arn:aws:iam::123456789012:role/r","Runtime":"python3.12","Handler":"h","Code":{"ZipFile":"aGVsbG8="}}"#)
            try expectAWSError(corrupt, status: .badRequest, type: "InvalidParameterValueException",
                               message: "Could not unzip uploaded file. Please check your file, then try to upload again.")
            // Nothing was created by the refused requests.
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions/f"), status: .notFound, type: "ResourceNotFoundException")
        }
    }

    @Test func oversizedRequestsAre413() async throws {
        try await TestServer().run { client in
            let huge = String(repeating: "A", count: 70_167_212)
            let response = try await client.send(.post, "/2015-03-31/functions", #"{"FunctionName":"f","Code":{"ZipFile":""# + huge + "\"}}")
            try expectAWSError(response, status: .contentTooLarge, type: "RequestEntityTooLargeException",
                               message: "Request must be smaller than 70167211 bytes for the CreateFunction operation")
        }
    }

    @Test func operationsOnTheFunctionRefuseAQualifiedName() async throws {
        try await TestServer().run { client in
            try await client.createFunction("orders", publish: true)
            try expectAWSError(try await client.send(.post, "/2015-03-31/functions/orders:1/versions", "{}"), status: .badRequest, type: "InvalidParameterValueException")
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions/orders?Qualifier=2&x=1").self, status: .notFound, type: "ResourceNotFoundException",
                               message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:orders:2")
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions/orders:1?Qualifier=2"), status: .badRequest, type: "InvalidParameterValueException",
                               message: "The derived qualifier from the function name does not match the specified qualifier.")
        }
    }

    @Test func deleteFunctionVersionRules() async throws {
        try await TestServer().run { client in
            try await client.createFunction("orders", publish: true)
            try await client.send(.post, "/2015-03-31/functions/orders/aliases", #"{"Name":"live","FunctionVersion":"1"}"#)
            try expectAWSError(try await client.send(.delete, "/2015-03-31/functions/orders?Qualifier=1"), status: .conflict, type: "ResourceConflictException",
                               message: "Unable to delete version because the following aliases reference it: [live]")
            try expectAWSError(try await client.send(.delete, "/2015-03-31/functions/orders?Qualifier=%24LATEST"), status: .badRequest, type: "InvalidParameterValueException",
                               message: "$LATEST version cannot be deleted without deleting the function.")
            try expectAWSError(try await client.send(.delete, "/2015-03-31/functions/orders?Qualifier=live"), status: .badRequest, type: "InvalidParameterValueException",
                               message: "Deletion of aliases is not currently supported.")
            #expect(try await client.send(.delete, "/2015-03-31/functions/orders?Qualifier=99").status == .noContent)
            #expect(try await client.send(.delete, "/2015-03-31/functions/orders/aliases/live").status == .noContent)
            #expect(try await client.send(.delete, "/2015-03-31/functions/orders/aliases/live").status == .noContent)
            #expect(try await client.send(.delete, "/2015-03-31/functions/orders?Qualifier=1").status == .noContent)
            #expect(try await client.send(.delete, "/2015-03-31/functions/orders").status == .noContent)
            try expectAWSError(try await client.send(.delete, "/2015-03-31/functions/orders"), status: .notFound, type: "ResourceNotFoundException")
        }
    }

    @Test func aliasLifecycleOverHTTP() async throws {
        try await TestServer().run { client in
            try await client.createFunction("orders", publish: true)
            try await client.send(.put, "/2015-03-31/functions/orders/code", #"{"ZipFile":"\#(helloZip.base64EncodedString())","Publish":true}"#)
            let created = try await client.send(.post, "/2015-03-31/functions/orders/aliases", #"{"Name":"live","FunctionVersion":"1","RoutingConfig":{"AdditionalVersionWeights":{"2":0.1}}}"#)
            #expect(created.status == .created)
            let alias = try json(created)
            #expect(alias["AliasArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders:live")
            #expect((alias["RoutingConfig"] as? [String: Any])?["AdditionalVersionWeights"] as? [String: Double] == ["2": 0.1])
            let revision = try #require(alias["RevisionId"] as? String)
            try expectAWSError(try await client.send(.put, "/2015-03-31/functions/orders/aliases/live", #"{"RevisionId":"stale"}"#),
                               status: .preconditionFailed, type: "PreconditionFailedException")
            let promoted = try json(try await client.send(.put, "/2015-03-31/functions/orders/aliases/live",
                                                          #"{"FunctionVersion":"2","RoutingConfig":{"AdditionalVersionWeights":{}},"RevisionId":"\#(revision)"}"#))
            #expect(promoted["FunctionVersion"] as? String == "2")
            #expect(promoted["RoutingConfig"] == nil)
            #expect(promoted["RevisionId"] as? String != revision)
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions/orders/aliases/nope"), status: .notFound, type: "ResourceNotFoundException",
                               message: "Cannot find alias arn: arn:aws:lambda:us-east-1:123456789012:function:orders:nope")
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions/orders/aliases/2024"), status: .badRequest, type: "ValidationException")
            let list = try json(try await client.send(.get, "/2015-03-31/functions/orders/aliases?FunctionVersion=2"))
            #expect((list["Aliases"] as? [[String: Any]])?.count == 1)
            let none = try json(try await client.send(.get, "/2015-03-31/functions/orders/aliases?FunctionVersion=1"))
            #expect((none["Aliases"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func listVersionsPutsLatestFirstAndPaginates() async throws {
        try await TestServer().run { client in
            try await client.createFunction("orders", publish: true)
            for index in 0..<3 {
                try await client.send(.put, "/2015-03-31/functions/orders/configuration", #"{"Description":"\#(index)"}"#)
                try await client.send(.post, "/2015-03-31/functions/orders/versions", "")
            }
            let first = try json(try await client.send(.get, "/2015-03-31/functions/orders/versions?MaxItems=3"))
            let versions = try #require(first["Versions"] as? [[String: Any]])
            #expect(versions.compactMap { $0["Version"] as? String } == ["$LATEST", "1", "2"])
            #expect(versions.first?["FunctionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST")
            let marker = try #require(first["NextMarker"] as? String)
            let encoded = marker.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? marker
            let second = try json(try await client.send(.get, "/2015-03-31/functions/orders/versions?MaxItems=3&Marker=\(encoded)"))
            #expect((second["Versions"] as? [[String: Any]])?.compactMap { $0["Version"] as? String } == ["3", "4"])
            #expect(second["NextMarker"] == nil)
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions?MaxItems=0"), status: .badRequest, type: "ValidationException")
            try expectAWSError(try await client.send(.get, "/2015-03-31/functions?FunctionVersion=SOME"), status: .badRequest, type: "ValidationException")
        }
    }

    @Test func accountSettingsCountFunctionsAndCode() async throws {
        try await TestServer().run { client in
            try await client.createFunction("a")
            try await client.createFunction("b")
            let body = try json(try await client.send(.get, "/2016-08-19/account-settings"))
            let usage = try #require(body["AccountUsage"] as? [String: Any])
            #expect(usage["FunctionCount"] as? Int == 2)
            #expect(usage["TotalCodeSize"] as? Int == helloZip.count)
            #expect((body["AccountLimit"] as? [String: Any])?["CodeSizeZipped"] as? Int == 52_428_800)
        }
    }
}
