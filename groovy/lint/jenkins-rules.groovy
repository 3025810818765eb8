// CodeNarc rules of `make lint` for the shared library (groovy/vars, groovy/src), the choice
// scripts and the Jenkinsfiles: CodeNarc's Jenkins rule set (rulesets/jenkins.xml, CodeNarc 3.7.0:
// the CPS rules) plus the basic and unnecessary-code rules that find real mistakes.
//
// Out of the box every Jenkins rule has applyToFileNames = 'Jenkinsfile', so it skips vars/*.groovy
// and src/**/*.groovy: here each one applies to every file `make lint` passes. The rules run at
// the SEMANTIC_ANALYSIS phase, so a file whose imports or annotations do not resolve is skipped
// with a warning; scripts/groovy_lint.py compiles groovy/src and the stubs of groovy/lint/stubs
// (@NonCPS, @Library) onto CodeNarc's class path and fails on any such skip.
final String ALL = '*.groovy,Jenkinsfile'

ruleset {
    ruleset('rulesets/jenkins.xml') {
        'ParameterOrReturnTypeNotSerializable' { applyToFileNames = ALL }
        'ObjectOverrideOnlyNonCpsMethods' { applyToFileNames = ALL }
        'ForbiddenCallInCpsMethod' { applyToFileNames = ALL }
        'ExpressionInCpsMethodNotSerializable' { applyToFileNames = ALL }
        'CpsCallFromNonCpsMethod' { applyToFileNames = ALL }
        'ClosureInGString' { applyToFileNames = ALL }
        'ClassNotSerializable' { applyToFileNames = ALL }
    }
    ruleset('rulesets/basic.xml')
}
