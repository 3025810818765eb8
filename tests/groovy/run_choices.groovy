// Runs groovy/choices/upstream-builds.groovy the way each choice plugin runs it, once per case.
//
// The script is evaluated in a fresh GroovyShell whose class loader has tests/groovy/fakes on its
// class path (the controller's classes, as the plugin's uber class loader offers them) and whose
// binding holds ONLY what the plugin binds:
//
//  * extensible-choice: SystemGroovyChoiceListProvider.runScript (extensible-choice-parameter,
//    src/main/java/jp/ikedam/jenkins/plugins/extensible_choice_parameter/
//    SystemGroovyChoiceListProvider.java at 2e6d227): with usePredefinedVariables, `project` =
//    the job found from the current web request, or null. The answer must be a List (else
//    IllegalArgumentException); an exception is logged and the choice list is EMPTY.
//  * active-choices: AbstractScriptableParameter.getHelperParameters + GroovyScript.eval (uno-choice
//    2.8.9, src/main/java/org/biouno/unochoice/AbstractScriptableParameter.java and
//    model/GroovyScript.java): `jenkinsProject` when the job is found, `jenkinsBuild` when its
//    last build has artifacts, `jenkinsParameter` (the parameter), then every global environment
//    variable; String values pass through Util.replaceMacro with the process environment. A List
//    answer becomes the choices; an exception (no fallback script configured) gives NO choices.
//
// args: SCRIPT CASES.json FAKES_DIR
// A case: {plugin, prelude (text put before the script, as the job's config does), project:
//   null | {fullName, upstream}, globalEnv: {NAME: value}, credentials: [{id, secret}],
//   jobs: {fullName: [{number, displayName(hex), result, building}]} (newest first)}.
// Strings that may hold any text are UTF-16 code units in hex. Prints per case:
// CASE <TAB> i <TAB> elapsed ms, then CHOICE <TAB> i <TAB> hex, or ERROR <TAB> i <TAB> message.
import groovy.json.JsonSlurper

def decode = { String hex ->
    if (hex == null) return null
    StringBuilder sb = new StringBuilder()
    for (int i = 0; i < hex.length(); i += 4) {
        sb.append((char) Integer.parseInt(hex.substring(i, i + 4), 16))
    }
    sb.toString()
}
def encode = { String text -> text.collect { String.format('%04x', (int) (it as char)) }.join('') }

GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.addClasspath(args[2])
def load = { String name -> loader.loadClass(name, true, false, true) }
Class jenkinsClass = load('jenkins.model.Jenkins')
Class jobClass = load('hudson.model.Job')
Class runClass = load('hudson.model.Run')
Class resultClass = load('hudson.model.Result')
Class paramsClass = load('hudson.model.ParametersDefinitionProperty')
Class choiceDefClass = load('hudson.model.ChoiceParameterDefinition')
Class envPropClass = load('hudson.slaves.EnvironmentVariablesNodeProperty')
Class credsProviderClass = load('com.cloudbees.plugins.credentials.CredentialsProvider')
Class stringCredsClass = load('org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl')
Class secretClass = load('hudson.util.Secret')
Class acParameterClass = load('org.biouno.unochoice.ChoiceParameter')

// hudson.Util.replaceMacro: ${NAME} and $NAME replaced when NAME is in the map, else left as is.
def replaceMacro = { String s, Map<String, String> vars ->
    s.replaceAll(/\$\{([A-Za-z0-9_.]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)/) { all, braced, bare ->
        String key = braced ?: bare
        vars.containsKey(key) ? vars[key] : all
    }
}

String scriptText = new File(args[0]).getText('UTF-8')
def cases = new JsonSlurper().parse(new File(args[1]), 'UTF-8')
cases.eachWithIndex { c, i ->
    Map<String, Object> items = [:]
    (c.jobs ?: [:]).each { String name, List builds ->
        List runs = builds.collect {
            runClass.newInstance(it.number as int, decode(it.displayName), resultClass.fromString(it.result ?: 'SUCCESS'),
                                 it.building ? true : false, it.artifacts ? true : false)
        }
        items[name] = jobClass.newInstance(name, [], runs)
    }
    def project = null
    if (c.project != null) {
        def upstream = choiceDefClass.newInstance('UPSTREAM_PROJECT', [c.project.upstream])
        def runs = items[c.project.fullName]?.getBuilds()?.collect { it } ?: []
        project = jobClass.newInstance(c.project.fullName, [paramsClass.newInstance([upstream])], runs)
        items[c.project.fullName] = project
    }
    Map<String, String> globalEnv = c.globalEnv ?: [:]
    jenkinsClass.install(items, [envPropClass.newInstance(globalEnv)])
    credsProviderClass.install((c.credentials ?: []).collect {
        stringCredsClass.newInstance(it.id, secretClass.fromString(it.secret))
    })

    Binding binding = new Binding()
    if (c.plugin == 'extensible-choice') {
        binding.setVariable('project', project)
    } else if (c.plugin == 'active-choices') {
        Map<Object, Object> helper = new LinkedHashMap()
        if (project != null) {
            helper.jenkinsProject = project
            def last = project.getLastBuild()
            if (last != null && last.getHasArtifacts()) {
                helper.jenkinsBuild = last
            }
        }
        helper.jenkinsParameter = acParameterClass.newInstance('BUILD_TO_DEPLOY', 'choice-parameter-1')
        helper.putAll(globalEnv)
        helper.each { k, v ->
            binding.setVariable(k as String, v instanceof String ? replaceMacro(v, System.getenv()) : v)
        }
    } else {
        throw new IllegalArgumentException('unknown plugin ' + c.plugin)
    }

    // Compiled before the clock starts (the plugins compile too, but that is not the script's time).
    Script script = new GroovyShell(loader, binding).parse((c.prelude ?: '') + scriptText)
    long start = System.nanoTime()
    List<String> choices = []
    String error = null
    try {
        def out = script.run()
        if (c.plugin == 'extensible-choice') {
            if (out != null && !(out instanceof List)) {
                throw new IllegalArgumentException('Return type of the Groovy script must be List<String>')
            }
            (out ?: []).each { if (it != null) { choices << it.toString() } }
        } else {
            if (out instanceof Map) {
                choices = out.values().collect { it as String }
            } else if (out instanceof List) {
                choices = out.collect { it as String }
            }
        }
    } catch (Throwable t) {
        // Both plugins log it and show no choice.
        choices = []
        error = t.toString()
    }
    println('CASE\t' + i + '\t' + ((System.nanoTime() - start) / 1000000 as long))
    choices.each { println('CHOICE\t' + i + '\t' + encode(it)) }
    if (error != null) {
        println('ERROR\t' + i + '\t' + error.replaceAll('[\\r\\n\\t]', ' '))
    }
}
