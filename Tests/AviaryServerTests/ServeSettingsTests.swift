import AviaryCLI
import ArgumentParser
import AviaryCore
import AviaryServer
import Logging
import Foundation
import Testing

@Suite struct ServeSettingsTests {
    @Test func defaultsAreLoopbackPort2842AndDotAviary() throws {
        let settings = try Serve.parse([]).settings(environment: [:])
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 2842)
        #expect(settings.dataDir.path == FileManager.default.currentDirectoryPath + "/.aviary")
        #expect(settings.scope == AccountScope(region: "us-east-1", accountID: "123456789012"))
        #expect(settings.logLevel == .info)
        #expect(settings.asyncRetryDelay == .seconds(60))
        #expect(settings.maxConcurrency == 1000)
        #expect(settings.idleTimeout == .seconds(300))
    }

    @Test func environmentVariablesSetEveryOption() throws {
        let settings = try Serve.parse([]).settings(environment: [
            "AVIARY_HOST": "0.0.0.0", "AVIARY_PORT": "9001", "AVIARY_DATA_DIR": "/srv/aviary",
            "AVIARY_REGION": "eu-west-1", "AVIARY_ACCOUNT_ID": "000000000000", "AVIARY_LOG_LEVEL": "DEBUG",
            "AVIARY_ASYNC_RETRY_DELAY": "5", "AVIARY_MAX_CONCURRENCY": "8", "AVIARY_IDLE_TIMEOUT": "30",
            "AVIARY_INSECURE": "1",
        ])
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 9001)
        #expect(settings.dataDir.path == "/srv/aviary")
        #expect(settings.scope == AccountScope(region: "eu-west-1", accountID: "000000000000"))
        #expect(settings.logLevel == .debug)
        #expect(settings.asyncRetryDelay == .seconds(5))
        #expect(settings.maxConcurrency == 8)
        #expect(settings.idleTimeout == .seconds(30))
        #expect(settings.insecure)
    }

    @Test func flagsWinOverEnvironmentVariables() throws {
        let settings = try Serve.parse(["--port", "0", "--data-dir", "state", "--log-level", "trace"])
            .settings(environment: ["AVIARY_PORT": "9001", "AVIARY_DATA_DIR": "/srv/aviary"])
        #expect(settings.port == 0)
        #expect(settings.dataDir.lastPathComponent == "state")
        #expect(settings.logLevel == .trace)
    }

    @Test(arguments: [
        ["AVIARY_PORT": "http"], ["AVIARY_PORT": "70000"], ["AVIARY_ACCOUNT_ID": "42"], ["AVIARY_LOG_LEVEL": "loud"],
        ["AVIARY_MAX_CONCURRENCY": "0"], ["AVIARY_ASYNC_RETRY_DELAY": "-1"], ["AVIARY_IDLE_TIMEOUT": "soon"],
    ])
    func badValuesAreRefusedBeforeStarting(environment: [String: String]) {
        #expect(throws: (any Error).self) { try Serve.parse([]).settings(environment: environment) }
    }

    @Test(arguments: ["0.0.0.0", "::", "192.168.1.5", "aviary.example.com", "127.0.0.1.example.com"])
    func anOpenAPIIsRefusedOnANonLoopbackAddress(host: String) {
        #expect {
            try Serve.parse(["--host", host]).settings(environment: [:])
        } throws: { error in
            "\(error)".contains("refusing to listen on \(host) without authentication") && "\(error)".contains("--insecure")
        }
    }

    @Test(arguments: ["127.0.0.1", "127.3.2.1", "::1", "localhost"])
    func loopbackAddressesNeedNoKeys(host: String) throws {
        #expect(try Serve.parse(["--host", host]).settings(environment: [:]).auth == nil)
    }

    @Test func insecureAllowsAnOpenAPIOnAnyAddress() throws {
        #expect(try Serve.parse(["--host", "0.0.0.0", "--insecure"]).settings(environment: [:]).insecure)
        #expect(try Serve.parse(["--host", "0.0.0.0"]).settings(environment: ["AVIARY_INSECURE": "true"]).insecure)
        #expect(throws: (any Error).self) { try Serve.parse([]).settings(environment: ["AVIARY_INSECURE": "maybe"]) }
    }

    @Test func aKeysFileFromTheFlagOrTheEnvironmentAllowsAnyAddress() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"keys": [{"accessKeyId": "AKIDALICE", "secretAccessKey": "s3cr3t", "user": "alice"}]}"#.utf8).write(to: file)
        let fromFlag = try Serve.parse(["--host", "0.0.0.0", "--auth", file.path]).settings(environment: [:])
        #expect(fromFlag.auth?.accessKey(id: "AKIDALICE")?.user == "alice")
        #expect(!fromFlag.insecure)
        let fromEnvironment = try Serve.parse(["--host", "0.0.0.0"]).settings(environment: ["AVIARY_AUTH": file.path])
        #expect(fromEnvironment.auth == fromFlag.auth)
    }

    @Test func anUnusableKeysFileStopsTheServerWithItsReason() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"keys": [{"accessKeyId": "AKIDALICE", "secretAccessKey": "", "user": "alice"}]}"#.utf8).write(to: file)
        #expect {
            try Serve.parse(["--auth", file.path]).settings(environment: [:])
        } throws: { error in
            "\(error)" == "\(file.path): keys[0] (AKIDALICE) has an empty secretAccessKey"
        }
        #expect(throws: (any Error).self) { try Serve.parse(["--auth", file.path + ".missing"]).settings(environment: [:]) }
    }

    @Test func serveIsASubcommandOfAviary() throws {
        let command = try AviaryCommand.parseAsRoot(["serve", "--port", "1234"])
        #expect(try (command as? Serve)?.settings(environment: [:]).port == 1234)
    }
}
