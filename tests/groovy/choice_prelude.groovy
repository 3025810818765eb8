// Runs the bindings prelude of the BUILD_TO_DEPLOY Extensible Choice parameter (the head of the
// rendered <script>, up to the include marker) with stand-ins for the plugin's predefined
// variables `project` and `jenkins`, and prints the bindings it sets as JSON.
// Usage: groovy choice_prelude.groovy PRELUDE_FILE UPSTREAM_DEFAULT SERVER_URL
import groovy.json.JsonOutput

GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
Class paramsProperty = loader.parseClass('''
package hudson.model
class ParametersDefinitionProperty {
    Map<String, Object> definitions
    def getParameterDefinition(String name) { definitions[name] }
}
''')
Class envProperty = loader.parseClass('''
package hudson.slaves
class EnvironmentVariablesNodeProperty {
    Map<String, String> envVars
}
''')
Class job = loader.parseClass('''
class FakeJob {
    Map properties
    Map getProperties() { properties }
}
''')
Class controller = loader.parseClass('''
class FakeJenkins {
    List globalNodeProperties
}
''')
def upstream = new Expando(getDefaultParameterValue: { -> new Expando(getValue: { -> args[1] }) })
def project = job.newInstance(properties: [other: new Object(),
                                           params: paramsProperty.newInstance(definitions: [UPSTREAM_PROJECT: upstream])])
def jenkins = controller.newInstance(globalNodeProperties: [new Object(),
                                     envProperty.newInstance(envVars: [PIPELINELIB_SERVER: args[2]])])

Binding binding = new Binding()
binding.setVariable('project', project)
binding.setVariable('jenkins', jenkins)
new GroovyShell(loader, binding).evaluate(new File(args[0]).getText('UTF-8'))
println(JsonOutput.toJson([upstreamJob: binding.getVariable('upstreamJob'), serviceUrl: binding.getVariable('serviceUrl'),
                           limit: binding.getVariable('limit'), timeoutMs: binding.getVariable('timeoutMs')]))
