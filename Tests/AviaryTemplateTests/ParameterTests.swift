import AviaryCore
@testable import AviaryTemplate
import Testing

/// `Parameters`: overrides from the command line, defaults, types and constraints.
@Suite struct ParameterTests {
    @Test func overridesAreReadInBothForms() throws {
        let overrides = try ApplicationTemplate.parseOverrides([
            "Stage=prod", "Query=a=b", "Empty=", "ParameterKey=Table,ParameterValue=orders,v2",
            "ParameterKey=Region,ParameterValue=eu west ParameterKey=Size,ParameterValue=10",
        ])
        #expect(
            overrides == [
                "Stage": "prod", "Query": "a=b", "Empty": "", "Table": "orders,v2", "Region": "eu west", "Size": "10",
            ])
    }

    @Test func malformedOrRepeatedOverridesAreRefused() {
        #expect(throws: TemplateError("a parameter override is Key=Value or ParameterKey=Key,ParameterValue=Value, not 'Stage'")) {
            try ApplicationTemplate.parseOverrides(["Stage"])
        }
        #expect(throws: TemplateError("a parameter override is Key=Value or ParameterKey=Key,ParameterValue=Value, not '=prod'")) {
            try ApplicationTemplate.parseOverrides(["=prod"])
        }
        #expect(throws: TemplateError("a parameter override in SAM's form is ParameterKey=Key,ParameterValue=Value, not 'ParameterKey=Stage'")) {
            try ApplicationTemplate.parseOverrides(["ParameterKey=Stage"])
        }
        #expect(throws: TemplateError("the parameter Stage is given twice")) {
            try ApplicationTemplate.parseOverrides(["Stage=dev", "ParameterKey=Stage,ParameterValue=prod"])
        }
    }

    static let parameters = """
        Parameters:
          Stage:
            Type: String
            Default: dev
            AllowedPattern: '[a-z]+'
            MaxLength: 5
            ConstraintDescription: lower-case letters
          Memory:
            Type: Number
            Default: 256
            MinValue: 128
            MaxValue: 1024
          Required:
            Type: String
        """

    func description(_ parameters: [String: String]) throws -> String? {
        try parseTemplate(ordersTemplate("Description: !Sub '${Stage}/${Memory}/${Required}'", top: Self.parameters), parameters: parameters)
            .function("OrdersFunction")?.settings.description
    }

    @Test func overridesWinOverDefaults() throws {
        #expect(try description(["Required": "x"]) == "dev/256/x")
        #expect(try description(["Required": "x", "Stage": "prod", "Memory": "512"]) == "prod/512/x")
    }

    @Test func aParameterWithoutDefaultNeedsAValue() throws {
        #expect(
            try templateError(ordersTemplate(top: Self.parameters))
                == "Parameters.Required: no value: the parameter has no Default, so pass one (Required=…)")
    }

    @Test func valuesAreCheckedAgainstTheirConstraints() throws {
        let template = ordersTemplate(top: Self.parameters)
        #expect(
            try templateError(template, parameters: ["Required": "x", "Stage": "Prod"])
                == "Parameters.Stage: 'Prod' does not match the AllowedPattern [a-z]+ (lower-case letters)")
        #expect(
            try templateError(template, parameters: ["Required": "x", "Stage": "staging"])
                == "Parameters.Stage: 'staging' is longer than MaxLength 5 (lower-case letters)")
        #expect(
            try templateError(template, parameters: ["Required": "x", "Memory": "64"])
                == "Parameters.Memory: 64 is below MinValue 128")
        #expect(
            try templateError(template, parameters: ["Required": "x", "Memory": "2048"])
                == "Parameters.Memory: 2048 is above MaxValue 1024")
        #expect(
            try templateError(template, parameters: ["Required": "x", "Memory": "lots"])
                == "Parameters.Memory: 'lots' is not a number")
    }

    @Test func anOverrideForAnUndeclaredParameterIsRefused() throws {
        #expect(
            try templateError(ordersTemplate(top: Self.parameters), parameters: ["Required": "x", "Stag": "prod"])
                == "the parameter override Stag names no parameter of the template (it declares Stage, Memory, Required)")
        #expect(
            try templateError(ordersTemplate(), parameters: ["Stage": "prod"])
                == "the parameter override Stage names no parameter of the template (it declares none)")
    }

    @Test func listParametersAreCheckedItemByItem() throws {
        let top = "Parameters:\n  Sizes:\n    Type: List<Number>\n    Default: '1,2'\n    AllowedValues: ['1', '2', '3']"
        let spec = try parseTemplate(ordersTemplate("Description: !Join ['+', !Ref Sizes]", top: top), parameters: ["Sizes": "3, 1"])
        #expect(spec.function("OrdersFunction")?.settings.description == "3+1")
        #expect(
            try templateError(ordersTemplate(top: top), parameters: ["Sizes": "1,4"])
                == "Parameters.Sizes: '4' is not one of the AllowedValues (1, 2, 3)")
        #expect(
            try templateError(ordersTemplate(top: top), parameters: ["Sizes": "1,x"])
                == "Parameters.Sizes: 'x' is not a number")
    }
}
