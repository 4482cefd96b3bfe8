<#ftl output_format="plainText">
<#-- Reuse alert, plain text. Model: audience (user|team), alert.* (every fact as text), rows (label key, value),
     realmName, locale, msg(). Never holds a token. -->
${msg("refreshGuardReuseIntro_" + audience, realmName)}

<#list rows as row>
${msg(row.label)}: ${row.value}
</#list>

${msg("refreshGuardRevoked_" + alert.action)}

${msg("refreshGuardAdvice_" + audience)}
<#if wasntMeLink??>

${msg("refreshGuardWasntMeLink")}: ${wasntMeLink}
${msg("refreshGuardWasntMeExplained")}
</#if>
